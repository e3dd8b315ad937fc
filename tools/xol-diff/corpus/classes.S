/* xol-diff's own corpus: instruction classes uptrace plans differently, in
 * one function each. Never run as a program: xol-diff only executes single
 * instructions of it in a sandbox. */
        .intel_syntax noprefix
#define FUNC(name) .globl name; .type name, @function; .p2align 4; name:
#define END(name) .size name, . - name

        .data
        .p2align 6
data_word:      .quad 0x1122334455667788, 0x99aabbccddeeff00
data_vec:       .quad 1, 2, 3, 4, 5, 6, 7, 8
data_ptr:       .quad data_word

        .section .rodata
ro_word:        .quad 42

        .text
FUNC(plain_alu)
        mov     rax, rbx
        add     rax, 12
        sub     ecx, edx
        imul    r8, r9, 7
        xor     r10d, r10d
        lea     rsi, [rdi + rcx * 4 + 16]
        mov     qword ptr [rbx + 8], rax
        mov     eax, dword ptr [rsp + 16]
        cmove   rdx, rsi
        setne   al
        bswap   r11
        shl     r12, cl
        movzx   eax, byte ptr [rbp - 8]
        xchg    rax, r8
        lock xadd qword ptr [rdi], rax
        cmpxchg qword ptr [rsi], rdx
        cqo
        cpuid
        div     rcx
        ret
END(plain_alu)

FUNC(rip_relative)
        mov     rax, qword ptr [rip + data_word]
        mov     qword ptr [rip + data_word], rbx
        add     dword ptr [rip + data_word + 4], 0x12345
        cmp     byte ptr [rip + data_word], 7
        lea     rdi, [rip + data_vec]
        lea     esi, [rip + data_vec]
        movsd   xmm0, qword ptr [rip + data_vec]
        movaps  xmm1, xmmword ptr [rip + data_vec]
        vmovdqu ymm2, ymmword ptr [rip + data_vec]
        vpaddq  zmm3, zmm4, zmmword ptr [rip + data_vec]
        vaddsd  xmm5, xmm6, qword ptr [rip + data_vec]
        call    qword ptr [rip + data_ptr]
        jmp     qword ptr [rip + data_ptr]
        mov     qword ptr [rip + ro_word], rax
        push    qword ptr [rip + data_word]
        pop     qword ptr [rip + data_word + 8]
        mov     rsi, qword ptr [rip + data_word]
        cmpxchg16b xmmword ptr [rip + data_vec]
        mov     rax, qword ptr fs:[0x28]
        mov     rax, qword ptr [0x1000]
        ret
END(rip_relative)

/* rsi, rdi and rbx all used: no scratch register for the far slot. */
FUNC(rip_no_scratch)
        .byte 0x48, 0x8b, 0x05, 0, 0, 0, 0   /* mov rax, [rip] */
        ret
END(rip_no_scratch)

FUNC(branches)
        jmp     1f
1:      jmp     2f
        .p2align 8
2:      je      3f
        jne     3f
        jb      3f
        jo      3f
        jl      3f
        jle     3f
        jp      3f
        js      3f
        ja      4f
        .p2align 8
3:      jg      4f
        jecxz   4f
        jrcxz   4f
        loop    4f
        loope   4f
        loopne  4f
4:      call    5f
5:      call    rax
        call    qword ptr [rbx]
        jmp     rcx
        jmp     qword ptr [rdx + 8]
        ret
        ret     16
        .byte 0xf3, 0xc3             /* rep ret */
        .byte 0x66, 0xc3             /* ret with 66: refused */
        .byte 0x67, 0xe3, 0x00       /* jecxz with 67 */
        .byte 0x67, 0xe2, 0x00       /* loop with 67 */
        .byte 0x3e, 0x74, 0x00       /* ds-prefixed (notrack/hint) je */
        .byte 0xf2, 0xeb, 0x00       /* bnd jmp */
        .byte 0xf2, 0xe8, 0, 0, 0, 0 /* bnd call */
        .byte 0x3e, 0xff, 0xe0       /* notrack jmp rax */
        .byte 0x48, 0xe9, 0, 0, 0, 0 /* rex.w jmp rel32 */
        ret
END(branches)

/* 66 with REX.W: REX.W wins, these are ordinary 64-bit branches and pushes. */
FUNC(rex_w_66)
        .byte 0x66, 0x66, 0x48, 0xe8, 0, 0, 0, 0   /* TLS general dynamic: call __tls_get_addr */
        .byte 0x66, 0x48, 0xe9, 0, 0, 0, 0         /* jmp rel32 */
        .byte 0x66, 0x48, 0xeb, 0x00               /* jmp rel8 */
        .byte 0x66, 0x48, 0x74, 0x00               /* je rel8 */
        .byte 0x66, 0x48, 0x0f, 0x85, 0, 0, 0, 0   /* jne rel32 */
        .byte 0x66, 0x48, 0xe2, 0x00               /* loop */
        .byte 0x66, 0x48, 0xe3, 0x00               /* jrcxz */
        .byte 0x66, 0x48, 0xff, 0xd0               /* call rax */
        .byte 0x66, 0x48, 0xff, 0xe0               /* jmp rax */
        .byte 0x66, 0x48, 0x9c                     /* pushfq */
        .byte 0x66, 0x48, 0x50                     /* push rax */
        .byte 0x66, 0x48, 0x6a, 0x05               /* push 5 */
        .byte 0x66, 0x48, 0xc2, 0x08, 0x00         /* ret 8 */
        .byte 0x66, 0x48, 0xc3                     /* ret */
END(rex_w_66)

FUNC(stack_ops)
        push    rbp
        push    r12
        push    0x12
        push    0x12345678
        pushfq
        .byte 0x66, 0x9c             /* pushfw */
        popfq
        pop     rbx
        pop     r15
        .byte 0x66, 0x50             /* push ax */
        enter   16, 0
        leave
        push    rsp
        pop     rsp
        push    qword ptr [rbx]
        ret
END(stack_ops)

FUNC(nops)
        nop
        .byte 0x66, 0x90
        .byte 0x0f, 0x1f, 0x00
        .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
        .byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0
        .byte 0xf3, 0x0f, 0x1e, 0xfa     /* endbr64 */
        .byte 0x41, 0x90                 /* xchg r8, rax */
        pause
        ret
END(nops)

FUNC(strings)
        movsb
        movsq
        stosd
        lodsb
        scasb
        cmpsq
        rep movsb
        rep stosq
        repne scasb
        xlatb
        ret
END(strings)

FUNC(vector)
        movaps  xmm0, xmm1
        paddd   xmm2, xmmword ptr [rax]
        pshufb  xmm3, xmm4
        vpermq  ymm5, ymm6, 0x1b
        vmovdqu64 zmm7 {k1}, zmm8
        kmovq   k2, k3
        vzeroupper
        cvtsi2sd xmm9, rax
        pextrq  rbx, xmm10, 1
        movq    r8, xmm11
        ldmxcsr dword ptr [rsp + 8]
        stmxcsr dword ptr [rsp + 8]
        fld     qword ptr [rbx]
        fstp    qword ptr [rcx]
        fxsave  [rdi]
        xsave   [rsi]
        ret
END(vector)

FUNC(special)
        rdtsc
        rdtscp
        rdrand  rax
        lfence
        mfence
        clflush byte ptr [rdi]
        prefetcht0 byte ptr [rsi]
        lahf
        sahf
        cld
        std
        cmc
        ud2
        int3
        syscall
        hlt
        xgetbv
        .byte 0x0f, 0x01, 0xee           /* rdpkru: Capstone 4 cannot decode */
        ret
END(special)
