;; _initialize makes one host call, {{CALL}}, to test which calls Envoy allows while a module
;; starts (logging, WASI, clock) and which it traps ("restricted_callback").
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $prop (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
;;@prelude
  (data (i32.const 1024) "plugin_name")
  (data (i32.const 1040) "hello from init\n")
  (data (i32.const 512) "\10\04\00\00\10\00\00\00")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize") {{CALL}})
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
)
