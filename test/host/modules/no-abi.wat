;; Has memory and an allocator but no proxy_abi_version_* export.
(module
;;@prelude
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
)
