;; ABI 0.1.0: on_request_headers(ctx, headers) (no end_of_stream; {{PARAMS}} gives the 0.2.x form)
;; looks up a missing header.
;; Envoy answers Ok with an empty value for 0.1.0 (NotFound from 0.2.0 on); the result code is
;; kept at address 16 for the test.
(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
;;@prelude
  (data (i32.const 1024) "missing")
  (func (export "proxy_abi_version_{{ABI}}"))
  (func (export "proxy_on_request_headers") (param {{PARAMS}}) (result i32)
    (i32.store (i32.const 16) (call $get (i32.const 0) (i32.const 1024) (i32.const 7) (i32.const 0) (i32.const 4)))
    (i32.const 0))
)
