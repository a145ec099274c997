  ;; Shared by the test modules (spliced in by test/host/wat.ts where ";;@prelude" appears):
  ;; a bump allocator that grows memory, and scratch space below 1024 for out-pointers.
  (memory (export "memory") {{PAGES}})
  (global $heap (mut i32) (i32.const {{HEAP}}))
  (global $mallocs (mut i32) (i32.const 0))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1)))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (block $ok
      (br_if $ok (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
      (drop (memory.grow (i32.add (i32.div_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1)))))
    (local.get $p))
  (func (export "mallocs") (result i32) (global.get $mallocs))
