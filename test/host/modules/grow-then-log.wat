;; Grows memory from inside a callback (not through the host's allocator), writes "grown" at the
;; start of the new page and logs it: the host must see the grown memory on its next import call.
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
;;@prelude
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $page i32)
    (local $at i32)
    (local.set $page (memory.grow (i32.const 1)))
    (local.set $at (i32.mul (local.get $page) (i32.const 65536)))
    ;; "grown" little-endian: g r o w | n
    (i32.store (local.get $at) (i32.const 0x776f7267))
    (i32.store8 (i32.add (local.get $at) (i32.const 4)) (i32.const 0x6e))
    (i32.store (i32.const 0) (call $log (i32.const 2) (local.get $at) (i32.const 5)))
    (i32.const 0))
)
