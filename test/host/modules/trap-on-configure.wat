;; on_configure traps: Envoy rejects the plugin (the canary VM fails to configure).
(module
;;@prelude
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) unreachable)
)
