;; GENERATED probe module for the host conformance tests (see test/host/probe.ts).
;; Each callback records an event, then runs the ops the test wrote for that callback kind:
;; an op is 12 i32: import id, ten arguments, address for the i32 result (0 = none).
;; Layout: 0..2047 out-slots, 2048 returns[16], 2112 event count, 4096.. events (6 i32),
;; 16384 + kind*1024 scripts (u32 count, 21 ops), 32768..65535 test data, heap from 65536.
(module
  (import "env" "proxy_log" (func $f0 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $f1 (param i32) (result i32)))
  (import "env" "proxy_get_status" (func $f2 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $f3 (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $f4 (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $f5 (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $f6 (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $f7 (param i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $f8 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $f9 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $f10 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func $f11 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func $f12 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $f13 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $f14 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $f15 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $f16 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $f17 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $f18 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func $f19 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_size" (func $f20 (param i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_status" (func $f21 (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $f22 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $f23 (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $f24 (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func $f25 (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $f26 (param i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $f27 (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $f28 (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $f29 (param i32 i64) (result i32)))
  (import "env" "proxy_record_metric" (func $f30 (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func $f31 (param i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $f32 (param i32) (result i32)))
  (import "env" "proxy_done" (func $f33  (result i32)))
  (import "env" "proxy_call_foreign_function" (func $f34 (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $f35 (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $f36 (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $f37 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $f38 (param i32)))
  (import "wasi_unstable" "environ_sizes_get" (func $f41 (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $f42 (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream" (func $f43 (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $f44 (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "env" "proxy_grpc_send" (func $f45 (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_cancel" (func $f46 (param i32) (result i32)))
  (import "env" "proxy_grpc_close" (func $f47 (param i32) (result i32)))
  (import "env" "pthread_equal" (func $f48 (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $f49 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $f50 (param i32 i32) (result i32)))
  (import "wasi_unstable" "fd_fdstat_get" (func $f51 (param i32 i32) (result i32)))
;;@prelude heap=65536 pages=2
  (data (i32.const 2052) "\01\00\00\00\01\00\00\00")
  (data (i32.const 2096) "\01\00\00\00")
  (func (export "proxy_abi_version_0_2_1"))
  (func $a (param $op i32) (param $k i32) (result i32)
    (i32.load (i32.add (local.get $op) (i32.add (i32.const 4) (i32.shl (local.get $k) (i32.const 2))))))
  (func $event (param $kind i32) (param $ctx i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32)
    (local $p i32)
    (local.set $p (i32.add (i32.const 4096) (i32.mul (i32.load (i32.const 2112)) (i32.const 24))))
    (if (i32.lt_u (local.get $p) (i32.const 16360)) (then
      (i32.store (local.get $p) (local.get $kind))
      (i32.store offset=4 (local.get $p) (local.get $ctx))
      (i32.store offset=8 (local.get $p) (local.get $a))
      (i32.store offset=12 (local.get $p) (local.get $b))
      (i32.store offset=16 (local.get $p) (local.get $c))
      (i32.store offset=20 (local.get $p) (local.get $d))
      (i32.store (i32.const 2112) (i32.add (i32.load (i32.const 2112)) (i32.const 1))))))
  (func $run (param $kind i32) (result i32)
    (local $base i32) (local $n i32) (local $i i32) (local $op i32) (local $r i32)
    (local.set $base (i32.add (i32.const 16384) (i32.mul (local.get $kind) (i32.const 1024))))
    (local.set $n (i32.load (local.get $base)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $op (i32.add (i32.add (local.get $base) (i32.const 4)) (i32.mul (local.get $i) (i32.const 48))))
      (local.set $r (call $exec (local.get $op)))
      (if (i32.load offset=44 (local.get $op)) (then (i32.store (i32.load offset=44 (local.get $op)) (local.get $r))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.load (i32.add (i32.const 2048) (i32.shl (local.get $kind) (i32.const 2)))))
  (func $exec (param $op i32) (result i32)
    (block $b51
    (block $b50
    (block $b49
    (block $b48
    (block $b47
    (block $b46
    (block $b45
    (block $b44
    (block $b43
    (block $b42
    (block $b41
    (block $b40
    (block $b39
    (block $b38
    (block $b37
    (block $b36
    (block $b35
    (block $b34
    (block $b33
    (block $b32
    (block $b31
    (block $b30
    (block $b29
    (block $b28
    (block $b27
    (block $b26
    (block $b25
    (block $b24
    (block $b23
    (block $b22
    (block $b21
    (block $b20
    (block $b19
    (block $b18
    (block $b17
    (block $b16
    (block $b15
    (block $b14
    (block $b13
    (block $b12
    (block $b11
    (block $b10
    (block $b9
    (block $b8
    (block $b7
    (block $b6
    (block $b5
    (block $b4
    (block $b3
    (block $b2
    (block $b1
    (block $b0
      (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10 $b11 $b12 $b13 $b14 $b15 $b16 $b17 $b18 $b19 $b20 $b21 $b22 $b23 $b24 $b25 $b26 $b27 $b28 $b29 $b30 $b31 $b32 $b33 $b34 $b35 $b36 $b37 $b38 $b39 $b40 $b41 $b42 $b43 $b44 $b45 $b46 $b47 $b48 $b49 $b50 $b51 $b51 (i32.load (local.get $op)))
    )
    (return (call $f0 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f1 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f2 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f3 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f4 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f5 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (call $a (local.get $op) (i32.const 5)) (call $a (local.get $op) (i32.const 6)) (call $a (local.get $op) (i32.const 7))))
    )
    (return (call $f6 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f7 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f8 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f9 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f10 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f11 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f12 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f13 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f14 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f15 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f16 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f17 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f18 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f19 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f20 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f21 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f22 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f23 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4))))
    )
    (return (call $f24 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (call $a (local.get $op) (i32.const 5)) (call $a (local.get $op) (i32.const 6)) (call $a (local.get $op) (i32.const 7)) (call $a (local.get $op) (i32.const 8)) (call $a (local.get $op) (i32.const 9))))
    )
    (return (call $f25 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (call $a (local.get $op) (i32.const 5)) (call $a (local.get $op) (i32.const 6)) (call $a (local.get $op) (i32.const 7)) (call $a (local.get $op) (i32.const 8)) (call $a (local.get $op) (i32.const 9)) (i32.const 0) (i32.const 0)))
    )
    (return (call $f26 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f27 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f28 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f29 (call $a (local.get $op) (i32.const 0)) (i64.extend_i32_s (call $a (local.get $op) (i32.const 1)))))
    )
    (return (call $f30 (call $a (local.get $op) (i32.const 0)) (i64.extend_i32_s (call $a (local.get $op) (i32.const 1)))))
    )
    (return (call $f31 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f32 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f33 ))
    )
    (return (call $f34 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (call $a (local.get $op) (i32.const 5))))
    )
    (return (call $f35 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f36 (call $a (local.get $op) (i32.const 0)) (i64.extend_i32_s (call $a (local.get $op) (i32.const 1))) (call $a (local.get $op) (i32.const 2))))
    )
    (return (call $f37 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (call $f38 (call $a (local.get $op) (i32.const 0))) (return (i32.const 0))
    )
    unreachable
    )
    (return (i32.load (i32.const -16)))
    )
    (return (call $f41 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f42 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f43 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (call $a (local.get $op) (i32.const 5)) (call $a (local.get $op) (i32.const 6)) (call $a (local.get $op) (i32.const 7)) (call $a (local.get $op) (i32.const 8))))
    )
    (return (call $f44 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3)) (call $a (local.get $op) (i32.const 4)) (i64.extend_i32_s (call $a (local.get $op) (i32.const 5))) (i64.extend_i32_s (call $a (local.get $op) (i32.const 6))) (call $a (local.get $op) (i32.const 7)) (call $a (local.get $op) (i32.const 8))))
    )
    (return (call $f45 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f46 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f47 (call $a (local.get $op) (i32.const 0))))
    )
    (return (call $f48 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f49 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1)) (call $a (local.get $op) (i32.const 2)) (call $a (local.get $op) (i32.const 3))))
    )
    (return (call $f50 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    )
    (return (call $f51 (call $a (local.get $op) (i32.const 0)) (call $a (local.get $op) (i32.const 1))))
    (i32.const -1))
  (func (export "proxy_on_context_create") (param $p0 i32) (param $p1 i32) (call $event (i32.const 0) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (drop (call $run (i32.const 0))))
  (func (export "proxy_on_vm_start") (param $p0 i32) (param $p1 i32) (result i32) (call $event (i32.const 1) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (call $run (i32.const 1)))
  (func (export "proxy_on_configure") (param $p0 i32) (param $p1 i32) (result i32) (call $event (i32.const 2) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (call $run (i32.const 2)))
  (func (export "proxy_on_tick") (param $p0 i32) (call $event (i32.const 3) (local.get $p0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (drop (call $run (i32.const 3))))
  (func (export "proxy_on_request_headers") (param $p0 i32) (param $p1 i32) (param $p2 i32) (result i32) (call $event (i32.const 4) (local.get $p0) (local.get $p1) (local.get $p2) (i32.const 0) (i32.const 0)) (call $run (i32.const 4)))
  (func (export "proxy_on_request_body") (param $p0 i32) (param $p1 i32) (param $p2 i32) (result i32) (call $event (i32.const 5) (local.get $p0) (local.get $p1) (local.get $p2) (i32.const 0) (i32.const 0)) (call $run (i32.const 5)))
  (func (export "proxy_on_request_trailers") (param $p0 i32) (param $p1 i32) (result i32) (call $event (i32.const 6) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (call $run (i32.const 6)))
  (func (export "proxy_on_response_headers") (param $p0 i32) (param $p1 i32) (param $p2 i32) (result i32) (call $event (i32.const 7) (local.get $p0) (local.get $p1) (local.get $p2) (i32.const 0) (i32.const 0)) (call $run (i32.const 7)))
  (func (export "proxy_on_response_body") (param $p0 i32) (param $p1 i32) (param $p2 i32) (result i32) (call $event (i32.const 8) (local.get $p0) (local.get $p1) (local.get $p2) (i32.const 0) (i32.const 0)) (call $run (i32.const 8)))
  (func (export "proxy_on_response_trailers") (param $p0 i32) (param $p1 i32) (result i32) (call $event (i32.const 9) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (call $run (i32.const 9)))
  (func (export "proxy_on_http_call_response") (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $p4 i32) (call $event (i32.const 10) (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3) (local.get $p4)) (drop (call $run (i32.const 10))))
  (func (export "proxy_on_queue_ready") (param $p0 i32) (param $p1 i32) (call $event (i32.const 11) (local.get $p0) (local.get $p1) (i32.const 0) (i32.const 0) (i32.const 0)) (drop (call $run (i32.const 11))))
  (func (export "proxy_on_done") (param $p0 i32) (result i32) (call $event (i32.const 12) (local.get $p0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (call $run (i32.const 12)))
  (func (export "proxy_on_log") (param $p0 i32) (call $event (i32.const 13) (local.get $p0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (drop (call $run (i32.const 13))))
  (func (export "proxy_on_delete") (param $p0 i32) (call $event (i32.const 14) (local.get $p0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (drop (call $run (i32.const 14))))
)
