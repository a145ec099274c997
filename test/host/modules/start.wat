;; Logs each step of the start sequence so the test sees its order and what each step could read:
;; {{STARTFN}} ("_initialize" or "_start"), on_context_create, on_vm_start (logs the VM
;; configuration, buffer 6), on_configure (logs the plugin configuration, buffer 7, and the
;; plugin_root_id / plugin_name properties). on_configure returns {{CONFIGURE}}. {{EXTRA}} may add
;; exports (e.g. a WASI reactor's main, which logs "main").
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $gbb (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $prop (param i32 i32 i32 i32) (result i32)))
;;@prelude
  (data (i32.const 1024) "start")
  (data (i32.const 1040) "context_create")
  (data (i32.const 1056) "vm_start")
  (data (i32.const 1072) "configure")
  (data (i32.const 1088) "plugin_root_id")
  (data (i32.const 1104) "plugin_name")
  (data (i32.const 1120) "(empty)")
  (data (i32.const 1136) "main")
  (func $log_out (drop (call $log (i32.const 2) (i32.load (i32.const 0)) (i32.load (i32.const 4)))))
  (func $log_const (param $p i32) (param $n i32) (drop (call $log (i32.const 2) (local.get $p) (local.get $n))))
  (func (export "proxy_abi_version_0_2_1"))
  {{EXTRA}}
  (func (export "{{STARTFN}}") (call $log_const (i32.const 1024) (i32.const 5)))
  (func (export "proxy_on_context_create") (param i32 i32) (call $log_const (i32.const 1040) (i32.const 14)))
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    (call $log_const (i32.const 1056) (i32.const 8))
    (drop (call $gbb (i32.const 6) (i32.const 0) (local.get $size) (i32.const 0) (i32.const 4)))
    (if (i32.eqz (i32.load (i32.const 4))) (then (call $log_const (i32.const 1120) (i32.const 7))) (else (call $log_out)))
    (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (call $log_const (i32.const 1072) (i32.const 9))
    (drop (call $gbb (i32.const 7) (i32.const 0) (local.get $size) (i32.const 0) (i32.const 4)))
    (if (i32.eqz (i32.load (i32.const 4))) (then (call $log_const (i32.const 1120) (i32.const 7))) (else (call $log_out)))
    (drop (call $prop (i32.const 1088) (i32.const 14) (i32.const 0) (i32.const 4)))
    (if (i32.eqz (i32.load (i32.const 4))) (then (call $log_const (i32.const 1120) (i32.const 7))) (else (call $log_out)))
    (drop (call $prop (i32.const 1104) (i32.const 11) (i32.const 0) (i32.const 4)))
    (call $log_out)
    (i32.const {{CONFIGURE}}))
)
