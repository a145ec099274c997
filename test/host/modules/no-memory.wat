;; Declares an ABI version and an allocator but exports no memory.
(module
  (memory 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
)
