;; on_configure starts an http_call to cluster "upstream": Envoy runs this in the canary VM too,
;; but only the worker VM's call may reach the network.
(module
  (import "env" "proxy_http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
;;@prelude
  (data (i32.const 1024) "upstream")
  (data (i32.const 1040) "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\01\00\00\00\0a\00\00\00\01\00\00\00\3a\6d\65\74\68\6f\64\00\47\45\54\00\3a\70\61\74\68\00\2f\00\3a\61\75\74\68\6f\72\69\74\79\00\61\00")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $call (i32.const 1024) (i32.const 8) (i32.const 1040) (i32.const 61) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 0)))
    (i32.const 1))
)
