;; A filter that stops on every body chunk ({{BODY}}: 1 StopIterationAndBuffer, 3 …NoBuffer) and
;; decides on the trailers: the case a data plane loses data in if the host forgets the body it holds.
;; {{HEADERS}}: what both headers callbacks return (0 Continue, 1 StopIteration).
;; {{TRAILERS}}: what both trailers callbacks return (0 Continue, 1 StopIteration).
;; on_tick continues the last stream in direction {{DIRECTION}} (0 request, 1 response).
;; Memory 0..: callbacks seen, as (kind, size) pairs of i32 at 64 + 8*n, count at 0.
;;   kinds: 1 request body, 2 request trailers, 3 response body, 4 response trailers.
(module
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
;;@prelude heap=8192
  (global $stream (mut i32) (i32.const 0))
  (func $seen (param $kind i32) (param $size i32)
    (local $at i32)
    (local.set $at (i32.add (i32.const 64) (i32.mul (i32.load (i32.const 0)) (i32.const 8))))
    (i32.store (local.get $at) (local.get $kind))
    (i32.store (i32.add (local.get $at) (i32.const 4)) (local.get $size))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param $ctx i32) (param $root i32)
    (if (local.get $root) (then (global.set $stream (local.get $ctx)))))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 1000)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const {{HEADERS}}))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const {{HEADERS}}))
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $end i32) (result i32)
    (call $seen (i32.const 1) (local.get $size))
    (i32.const {{BODY}}))
  (func (export "proxy_on_response_body") (param $ctx i32) (param $size i32) (param $end i32) (result i32)
    (call $seen (i32.const 3) (local.get $size))
    (i32.const {{BODY}}))
  (func (export "proxy_on_request_trailers") (param $ctx i32) (param $n i32) (result i32)
    (call $seen (i32.const 2) (local.get $n))
    (i32.const {{TRAILERS}}))
  (func (export "proxy_on_response_trailers") (param $ctx i32) (param $n i32) (result i32)
    (call $seen (i32.const 4) (local.get $n))
    (i32.const {{TRAILERS}}))
  (func (export "proxy_on_tick") (param i32)
    (drop (call $effective (global.get $stream)))
    (drop (call $continue (i32.const {{DIRECTION}}))))
)
