/* Function entries a jump probe could not take before issue 17, one per
 * relocation it now does; target-jump_sites calls them (see jump_sites.c).
 * Each probe is at the function's entry, and the comment says what the jmp
 * written there overwrites. Padding that must never run is int3 where the
 * case is about padding, so a wrong landing kills the driver. */
        .intel_syntax noprefix

#define FUNC(name) .globl name; .type name, @function; .p2align 4; name:
#define END(name) .size name, . - name

        .text

/* rax = rdi + 3 */
FUNC(js_helper)
        lea     rax, [rdi + 3]
        ret
END(js_helper)

/* A call rel32 at the entry: the trampoline pushes the return address the
 * call would have pushed (js_call+5) and jumps to js_helper.
 * rax = (rdi + 3) * 2 */
FUNC(js_call)
        call    js_helper
        add     rax, rax
        ret
END(js_call)

/* A je rel8 inside the window (test, je, mov: 9 bytes), retargeted with
 * rel32. rax = rdi ? 7 : 9 */
FUNC(js_jcc)
        test    edi, edi
        je      1f
        mov     eax, 7
        ret
1:      mov     eax, 9
        ret
END(js_jcc)

/* The function is 3 bytes (mov, ret): the jmp overwrites 2 bytes of the
 * int3 padding after it. rax = rdi */
FUNC(js_ret_short)
        mov     eax, edi
        ret
END(js_ret_short)
        .p2align 4, 0xcc

/* The same with the assembler's nop padding after it (4 bytes: lea, ret).
 * rax = rdi + 1 */
FUNC(js_ret_nop)
        lea     eax, [rdi + 1]
        ret
END(js_ret_nop)

/* Where js_tail jumps to. rax = rax * 3 */
FUNC(js_tail_target)
.Ltail_target:  /* local: GAS gives a jump to a global symbol its rel32 form */
        lea     rax, [rax + rax*2]
        ret
END(js_tail_target)

/* A jmp rel8 at the end of a 4-byte function (a tail jump), then int3
 * padding. rax = rdi * 3 */
FUNC(js_tail)
        mov     eax, edi
        jmp     .Ltail_target
END(js_tail)
        .p2align 4, 0xcc

/* A switch as GCC emits it in PIC code: the window is mov and cmp; the
 * table's entries are proven to land outside it.
 * rax = 10, 20, 30, 40 for rdi 0..3, else -1 */
FUNC(js_switch)
        mov     eax, edi
        cmp     eax, 3
        ja      5f
        lea     rdx, [rip + js_switch_table]
        movsxd  rax, dword ptr [rdx + rax*4]
        add     rax, rdx
        jmp     rax
1:      mov     eax, 10
        ret
2:      mov     eax, 20
        ret
3:      mov     eax, 30
        ret
4:      mov     eax, 40
        ret
5:      mov     rax, -1
        ret
        .section .rodata
        .p2align 2
js_switch_table:
        .long 1b - js_switch_table, 2b - js_switch_table, 3b - js_switch_table, 4b - js_switch_table
        .text
END(js_switch)

/* A switch in a loop whose table base is loaded once, before the loop,
 * while rdx is written again on the way out: neither the idiom nor the
 * function's only write of rdx shows the base, a walk over the paths
 * does. The jmp overwrites mov and lea (10 bytes).
 * rax: 1 per step of rdi down to 0, or + 10 and out once rdi & 3 is 3 */
FUNC(js_loop_switch)
        mov     rcx, rdi
        lea     rdx, [rip + js_loop_switch_table]
        xor     eax, eax
        and     ecx, 3
        test    rdi, rdi
1:      cmp     ecx, 3
        ja      9f
        movsxd  rcx, dword ptr [rdx + rcx*4]
        add     rcx, rdx
        jmp     rcx
2:      add     rax, 1
        sub     rdi, 1
        jle     9f
        mov     rcx, rdi
        and     ecx, 3
        jmp     1b
3:      add     rax, 10
9:      xor     edx, edx
        ret
        .section .rodata
        .p2align 2
js_loop_switch_table:
        .long 2b - js_loop_switch_table, 2b - js_loop_switch_table, 2b - js_loop_switch_table
        .long 3b - js_loop_switch_table
        .text
END(js_loop_switch)

/* Enters js_entered's middle, as glibc's __mempcpy_*_unaligned_erms enters
 * __memmove_*_unaligned_erms: a jump at js_entered must refuse.
 * rax = rdi + 100 */
FUNC(js_enters)
        lea     eax, [rdi + 99]
        jmp     .Lentered_mid
END(js_enters)

/* rax = rdi + 1; its second instruction is js_enters' way in. The int3
 * padding before it is where a jump's relay goes (the site's mov, 2 bytes,
 * becomes a jmp rel8 to it); anything else running it kills the driver. */
        .p2align 4, 0xcc
FUNC(js_entered)
        mov     eax, edi
.Lentered_mid:
        add     eax, 1
        ret
END(js_entered)

/* The same pair with no padding between them: js_entered_tight starts
 * where js_enters_tight ends, so there is no room for a relay.
 * rax = rdi + 100, and rdi + 1 */
FUNC(js_enters_tight)
        lea     eax, [rdi + 99]
        jmp     .Ltight_mid
END(js_enters_tight)
        .globl js_entered_tight; .type js_entered_tight, @function
js_entered_tight:
        mov     eax, edi
.Ltight_mid:
        add     eax, 1
        ret
END(js_entered_tight)

        .section .note.GNU-stack, "", @progbits
