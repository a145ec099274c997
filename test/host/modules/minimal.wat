;; The smallest module Envoy accepts: memory, an allocator and an ABI version marker.
;; {{IMPORTS}} lets a test add one import (e.g. one Envoy does not provide).
(module
  {{IMPORTS}}
;;@prelude
  (func (export "proxy_abi_version_{{ABI}}"))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const {{CONFIGURE}}))
)
