/* One small function per instruction class that uptrace must execute out of
 * line (or emulate) at a probe site; target-insn_driver calls them.
 *
 * The probed instruction of each function is its first one, so the probe is
 * just FUNC, except where the class needs setup first; those say "probe
 * FUNC+OFF" next to the instruction, and the tests check with --explain that
 * FUNC+OFF decodes to the instruction named here.
 *
 * The functions are plain System V: arguments in rdi, rsi, rdx, xmm0; the
 * result in rax or xmm0. Padding that must never run is int3 (0xcc), so a
 * wrong branch target kills the driver instead of going unnoticed.
 *
 * The trap_* and refuse_* functions are never called: they exist to be
 * refused as probe sites. */
        .intel_syntax noprefix

#define FUNC(name) .globl name; .type name, @function; .p2align 4; name:
#define END(name) .size name, . - name

        .data
        .p2align 4
rip_load_data:    .quad 1000003
rip_store_data:   .quad 0
rip_store_imm_data: .quad 0
rip_lea_table:    .quad 11, 22, 33, 44
sse_one:          .double 0.5
sse_two:          .double 1.25
avx_three:        .double 2.75
avx512_four:      .double 4.5
xadd_counter:     .long 0
        .p2align 3
call_mem_ptr:     .quad call_helper
jmp_mem_ptr:      .quad jmp_mem_landing
jmp_table:        .quad jmp_case0, jmp_case1, jmp_case2, jmp_case3
ra_callee_ptr:    .quad ra_callee

        .text

/* Shared callee: rax = rdi + 1. */
FUNC(call_helper)
        lea     rax, [rdi + 1]
        ret
END(call_helper)

/* rip-relative load: rax = rdi + rip_load_data. */
FUNC(rip_load)
        mov     rax, qword ptr [rip + rip_load_data]
        add     rax, rdi
        ret
END(rip_load)

/* rip-relative store: rip_store_data = rdi; returns it read back + 1. */
FUNC(rip_store)
        mov     qword ptr [rip + rip_store_data], rdi
        mov     rax, qword ptr [rip + rip_store_data]
        add     rax, 1
        ret
END(rip_store)

/* rip-relative read-modify-write with an immediate after the displacement:
 * returns the running total after adding 7. */
FUNC(rip_store_imm)
        add     qword ptr [rip + rip_store_imm_data], 7
        mov     rax, qword ptr [rip + rip_store_imm_data]
        ret
END(rip_store_imm)

/* rip-relative lea: returns rip_lea_table[rdi & 3]. */
FUNC(rip_lea)
        lea     rax, [rip + rip_lea_table]
        and     edi, 3
        mov     rax, qword ptr [rax + rdi * 8]
        ret
END(rip_lea)

/* SSE load with a rip operand: xmm0 += 0.5. */
FUNC(sse_movsd)
        movsd   xmm1, qword ptr [rip + sse_one]
        addsd   xmm0, xmm1
        ret
END(sse_movsd)

/* SSE arithmetic with a rip operand: xmm0 += 1.25. */
FUNC(sse_addsd)
        addsd   xmm0, qword ptr [rip + sse_two]
        ret
END(sse_addsd)

/* AVX (VEX) with a rip operand: xmm0 += 2.75. Called only with AVX. */
FUNC(avx_vaddsd)
        vaddsd  xmm0, xmm0, qword ptr [rip + avx_three]
        ret
END(avx_vaddsd)

/* AVX-512 (EVEX, xmm16) with a rip operand: xmm0 += 4.5. Called only with
 * AVX512F. */
FUNC(avx512_vmovsd)
        vmovsd  xmm16, qword ptr [rip + avx512_four]
        vaddsd  xmm0, xmm0, xmm16
        ret
END(avx512_vmovsd)

/* call rel32 as the first instruction: returns (rdi + 1) * 3. */
FUNC(call_rel)
        call    call_helper
        lea     rax, [rax + rax * 2]
        ret
END(call_rel)

/* jcc rel8, taken for rdi < 3 (unsigned), not taken otherwise: probe
 * jcc_rel8+3 (the jb). */
FUNC(jcc_rel8)
        cmp     edi, 3                  /* 83 ff 03 */
        jb      1f                      /* +3 */
        lea     eax, [rdi + 100]
        ret
1:      lea     eax, [rdi + 200]
        ret
END(jcc_rel8)

/* jcc rel32 (0f 8x), taken for odd rdi: probe jcc_rel32+4 (the jne). */
FUNC(jcc_rel32)
        test    dil, 1                  /* 40 f6 c7 01 */
        .byte   0x0f, 0x85              /* +4: jne rel32 */
        .long   2f - 1f
1:      lea     eax, [rdi + 300]
        ret
        .fill   160, 1, 0xcc
2:      lea     eax, [rdi + 400]
        ret
END(jcc_rel32)

/* jmp rel8 over int3 padding: returns rdi + 5. */
FUNC(jmp_rel8)
        .byte   0xeb, 2f - 1f
1:      .fill   16, 1, 0xcc
2:      lea     rax, [rdi + 5]
        ret
END(jmp_rel8)

/* jmp rel32 over int3 padding: returns rdi + 9. */
FUNC(jmp_rel32)
        .byte   0xe9
        .long   2f - 1f
1:      .fill   200, 1, 0xcc
2:      lea     rax, [rdi + 9]
        ret
END(jmp_rel32)

/* push reg (probe push_pop) and pop reg (probe push_pop+8, the pop rbx):
 * returns 2 * rdi, and rbx survives. */
FUNC(push_pop)
        push    rbx                     /* 53 */
        mov     rbx, rdi                /* +1: 48 89 fb */
        lea     rax, [rbx + rbx]        /* +4: 48 8d 04 1b */
        pop     rbx                     /* +8 */
        ret
END(push_pop)

/* push imm8: returns rdi + 42. */
FUNC(push_imm)
        push    42
        pop     rax
        add     rax, rdi
        ret
END(push_imm)

/* pushf: returns the trap flag as the function saw it (must be 0). */
FUNC(pushf_fn)
        pushfq
        pop     rax
        and     eax, 0x100
        ret
END(pushf_fn)

/* ret probed on the ret itself: probe ret_fn+4. Returns rdi + 11. */
FUNC(ret_fn)
        lea     rax, [rdi + 11]         /* 48 8d 47 0b */
        ret                             /* +4 */
END(ret_fn)

/* lock xadd with a rip operand: returns the counter before adding edi. */
FUNC(lock_xadd)
        lock xadd dword ptr [rip + xadd_counter], edi
        mov     eax, edi
        ret
END(lock_xadd)

/* lock add through a pointer: *rdi += esi; returns the new *rdi. */
FUNC(lock_add)
        lock add dword ptr [rdi], esi
        mov     eax, dword ptr [rdi]
        ret
END(lock_add)

/* lock cmpxchg: if *rdi == esi then *rdi = edx; returns the old *rdi.
 * Probe lock_cmpxchg+2. */
FUNC(lock_cmpxchg)
        mov     eax, esi                /* 89 f0 */
        lock cmpxchg dword ptr [rdi], edx   /* +2 */
        ret
END(lock_cmpxchg)

/* call reg: calls the function in rsi with rdi; returns its result + 1000. */
FUNC(call_reg)
        call    rsi
        add     rax, 1000
        ret
END(call_reg)

/* call [rip+x]: calls call_helper through a pointer; returns rdi + 1 + 2000. */
FUNC(call_mem)
        call    qword ptr [rip + call_mem_ptr]
        add     rax, 2000
        ret
END(call_mem)

/* jmp [rip+x]: jumps through a pointer to jmp_mem_landing; returns rdi + 13. */
FUNC(jmp_mem)
        jmp     qword ptr [rip + jmp_mem_ptr]
        .fill   8, 1, 0xcc
END(jmp_mem)

FUNC(jmp_mem_landing)
        lea     rax, [rdi + 13]
        ret
END(jmp_mem_landing)

/* jmp through a table indexed by rdi & 3: probe jmp_indexed+13 (the jmp). */
FUNC(jmp_indexed)
        lea     rcx, [rip + jmp_table]  /* 48 8d 0d disp32 */
        mov     rax, rdi                /* +7: 48 89 f8 */
        and     eax, 3                  /* +10: 83 e0 03 */
        jmp     qword ptr [rcx + rax * 8]   /* +13 */
        .fill   8, 1, 0xcc
jmp_case0:
        lea     rax, [rdi + 1000]
        ret
jmp_case1:
        lea     rax, [rdi + 2000]
        ret
jmp_case2:
        lea     rax, [rdi + 3000]
        ret
jmp_case3:
        lea     rax, [rdi + 4000]
        ret
END(jmp_indexed)

/* loop: returns rdi + (rdi - 1) + ... + 1 for rdi >= 1; the loop
 * instruction (probe loop_fn+6) runs rdi times per call. */
FUNC(loop_fn)
        xor     eax, eax                /* 31 c0 */
        mov     ecx, edi                /* +2: 89 f9 */
1:      add     eax, ecx                /* +4: 01 c8 */
        loop    1b                      /* +6 */
        ret
END(loop_fn)

/* cmov: returns max(rdi, rsi) (signed); probe cmov_fn+6. */
FUNC(cmov_fn)
        mov     rax, rdi                /* 48 89 f8 */
        cmp     rdi, rsi                /* +3: 48 39 f7 */
        cmovl   rax, rsi                /* +6 */
        ret
END(cmov_fn)

/* xchg with memory (implicitly locked): *rsi = rdi; returns the old *rsi. */
FUNC(xchg_fn)
        xchg    qword ptr [rsi], rdi
        mov     rax, rdi
        ret
END(xchg_fn)

/* movsb without rep: copies two bytes from rsi to rdi; returns the new rdi. */
FUNC(movsb_fn)
        movsb
        movsb
        mov     rax, rdi
        ret
END(movsb_fn)

/* Multi-byte nop (0f 1f 44 00 00): returns rdi + 17. */
FUNC(nop_fn)
        nop     dword ptr [rax + rax * 1 + 0]
        lea     rax, [rdi + 17]
        ret
END(nop_fn)

/* One-byte nop: returns rdi + 18. */
FUNC(nop1_fn)
        nop
        lea     rax, [rdi + 18]
        ret
END(nop1_fn)

/* endbr64: returns rdi + 19. */
FUNC(endbr_fn)
        endbr64
        lea     rax, [rdi + 19]
        ret
END(endbr_fn)

/* ret imm16 (probe ret_imm_callee+10, the "ret 8"): ret_imm_caller pushes
 * rdi as a stack argument that the callee pops; returns 2 * rdi + 1. */
FUNC(ret_imm_caller)
        push    rdi
        call    ret_imm_callee
        ret
END(ret_imm_caller)

FUNC(ret_imm_callee)
        mov     rax, qword ptr [rsp + 8]        /* 48 8b 44 24 08 */
        lea     rax, [rax + rax + 1]            /* +5: 48 8d 44 00 01 */
        ret     8                               /* +10: c2 08 00 */
END(ret_imm_callee)

/* jrcxz (probe jrcxz_fn+3): returns 77 when rdi == 0, else rdi + 50. */
FUNC(jrcxz_fn)
        mov     rcx, rdi                /* 48 89 f9 */
        jrcxz   1f                      /* +3 */
        lea     rax, [rdi + 50]
        ret
1:      mov     eax, 77
        ret
END(jrcxz_fn)

/* jecxz (probe jecxz_fn+3): jumps when the low half of rdi is 0, whatever
 * the high half is; returns 88 then, else rdi + 60. */
FUNC(jecxz_fn)
        mov     rcx, rdi                /* 48 89 f9 */
        jecxz   1f                      /* +3: 67 e3 */
        lea     rax, [rdi + 60]
        ret
1:      mov     eax, 88
        ret
END(jecxz_fn)

/* loop with a 32-bit count (addr32, 67 e2; probe loop32_fn+8): counts ecx
 * down from the low half of rdi; returns the iterations plus what is left
 * in rcx afterwards (the driver compares with the untraced run). */
FUNC(loop32_fn)
        mov     rcx, rdi                /* 48 89 f9 */
        xor     eax, eax                /* +3: 31 c0 */
1:      add     eax, 1                  /* +5: 83 c0 01 */
        addr32 loop 1b                  /* +8: 67 e2 */
        add     rax, rcx                /* +11 */
        ret
END(loop32_fn)

/* push rsp pushes the value rsp had before: returns 0. */
FUNC(push_rsp_fn)
        push    rsp
        pop     rax
        sub     rax, rsp
        ret
END(push_rsp_fn)

/* push r12 (REX.B): returns 3 * rdi, and r12 survives. */
FUNC(push_r12_fn)
        push    r12
        mov     r12, rdi
        lea     rax, [r12 + r12 * 2]
        pop     r12
        ret
END(push_r12_fn)

/* push with a rip-relative memory operand: returns rdi + 1000003. */
FUNC(push_mem_fn)
        push    qword ptr [rip + rip_load_data]
        pop     rax
        add     rax, rdi
        ret
END(push_mem_fn)

/* cmp with a rip operand and an imm32 after the displacement: returns 1. */
FUNC(cmp_rip_imm_fn)
        cmp     qword ptr [rip + rip_load_data], 1000003
        sete    al
        movzx   eax, al
        ret
END(cmp_rip_imm_fn)

/* "rep ret" (f3 c3), as old compilers emit it: probe repz_ret_fn+4.
 * Returns rdi + 23. */
FUNC(repz_ret_fn)
        lea     rax, [rdi + 23]         /* 48 8d 47 17 */
        .byte   0xf3, 0xc3              /* +4: rep ret */
END(repz_ret_fn)

/* bnd call rel32 (f2 e8): returns rdi + 1 + 5. */
FUNC(bnd_call_fn)
        bnd call call_helper
        add     rax, 5
        ret
END(bnd_call_fn)

/* lea into a 32-bit register clears the high half: probe lea32_fn+7.
 * Returns 0. */
FUNC(lea32_fn)
        mov     rax, -1                 /* 48 c7 c0 ff ff ff ff */
        lea     eax, [rip + rip_lea_table]  /* +7 */
        shr     rax, 32
        ret
END(lea32_fn)

/* lea into a 16-bit register keeps the rest: probe lea16_fn+7. Returns
 * 0xffffffffffff. */
FUNC(lea16_fn)
        mov     rax, -1                 /* 48 c7 c0 ff ff ff ff */
        lea     ax, [rip + rip_lea_table]   /* +7: 66 8d 05 */
        shr     rax, 16
        ret
END(lea16_fn)

/* 49 90 is xchg rax, r8 (REX.B), not a nop: probe xchg_r8_fn+3. Returns
 * rdi. */
FUNC(xchg_r8_fn)
        mov     r8, rdi                 /* 49 89 f8 */
        .byte   0x49, 0x90              /* +3: xchg rax, r8 */
        ret
END(xchg_r8_fn)

/* call to the next instruction, the get-pc idiom: returns the popped
 * return address minus the address it must be (0). */
FUNC(getpc_fn)
        call    1f
1:      pop     rax
        lea     rcx, [rip + 1b]
        sub     rax, rcx
        ret
END(getpc_fn)

/* Returns the return address it was called with. */
FUNC(ra_callee)
        mov     rax, qword ptr [rsp]
        ret
END(ra_callee)

/* call reg and call [rip+x] must push the return address of the site:
 * returns (first return address - its label) + (second - its label) = 0.
 * Probe call_ra_fn+7 (call rsi) and call_ra_fn+22 (call [rip+x]). */
FUNC(call_ra_fn)
        lea     rsi, [rip + ra_callee]          /* 48 8d 35 disp32 */
        call    rsi                             /* +7: ff d6 */
1:      lea     rcx, [rip + 1b]                 /* +9 */
        sub     rax, rcx                        /* +16 */
        mov     rdx, rax                        /* +19 */
        call    qword ptr [rip + ra_callee_ptr] /* +22: ff 15 disp32 */
2:      lea     rcx, [rip + 2b]
        sub     rax, rcx
        add     rax, rdx
        ret
END(call_ra_fn)

/* A 5-byte instruction after a nop: five_byte+3 is inside it (at +0x1,
 * boundaries +0x1 and +0x6). Returns 0x12345678. */
FUNC(five_byte)
        nop
        mov     eax, 0x12345678
        ret
END(five_byte)

/* Never called: breakpoint instructions of every kind, as probe sites. */
FUNC(trap_int3)
        int3
        ret
END(trap_int3)

FUNC(trap_int_3)
        .byte   0xcd, 0x03              /* int 3 */
        ret
END(trap_int_3)

FUNC(trap_int1)
        .byte   0xf1                    /* int1 (icebp) */
        ret
END(trap_int1)

/* int3 after a nop: probe trap_mid+1. */
FUNC(trap_mid)
        nop
        int3
        ret
END(trap_mid)

/* Never called: a syscall, which cannot run out of line. */
FUNC(refuse_syscall)
        syscall
        ret
END(refuse_syscall)

        .section .note.GNU-stack, "", @progbits
