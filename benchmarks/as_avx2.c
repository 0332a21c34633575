/*
 * Loaded with LD_PRELOAD by benchmarks/as_avx2.sh: the program it runs sees a CPU without AVX-512,
 * VNNI, bfloat16 or AMX, as on the AVX2-only AMD EPYC machines that issue 38 is about, so that
 * torch, MKL, oneDNN and ONNX Runtime pick the kernels they pick there.
 *
 * Libraries choose their kernels from the CPUID instruction. Linux can make CPUID fault in a
 * process (arch_prctl ARCH_SET_CPUID, on CPUs with the `cpuid_fault` flag); the fault arrives here
 * as SIGSEGV, is answered with the real CPUID's values less those feature bits, and the program
 * goes on after the instruction. Only what CPUID reports changes: the machine's caches, clock and
 * the width of its vector units stay those of the CPU it runs on.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012
#define BIT(n) (1u << (n))

/* Leaf 7, sub-leaf 0. EBX: avx512f, dq, ifma, pf, er, cd, bw, vl. */
static const uint32_t LEAF7_EBX = BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31);
/* ECX: avx512_vbmi, vbmi2, vnni, bitalg, vpopcntdq. */
static const uint32_t LEAF7_ECX = BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14);
/* EDX: avx512_4vnniw, 4fmaps, vp2intersect, amx_bf16, avx512_fp16, amx_tile, amx_int8. */
static const uint32_t LEAF7_EDX = BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25);
/* Leaf 7, sub-leaf 1. EAX: avx_vnni, avx512_bf16, amx_fp16, avx_ifma; EDX: avx_vnni_int8,
 * avx_ne_convert, amx_complex, avx_vnni_int16, avx10. */
static const uint32_t LEAF7_1_EAX = BIT(4) | BIT(5) | BIT(21) | BIT(23);
static const uint32_t LEAF7_1_EDX = BIT(4) | BIT(5) | BIT(8) | BIT(10) | BIT(19);

static long cpuid_faults(int on) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void on_fault(int signal_number, siginfo_t *info, void *context) {
    if (info->si_code <= 0) {
        /* Sent by a process (kill, tgkill), not a fault: take it as the program would have. */
        signal(signal_number, SIG_DFL);
        raise(signal_number);
        return;
    }
    greg_t *registers = ((ucontext_t *)context)->uc_mcontext.gregs;
    const unsigned char *instruction = (const unsigned char *)registers[REG_RIP];
    if (instruction[0] != 0x0f || instruction[1] != 0xa2) {
        /* A real fault, not CPUID: returning re-runs the instruction, which dies of it. */
        signal(signal_number, SIG_DFL);
        return;
    }
    int saved_errno = errno;
    uint32_t leaf = (uint32_t)registers[REG_RAX], subleaf = (uint32_t)registers[REG_RCX];
    uint32_t eax, ebx, ecx, edx;
    cpuid_faults(0);
    __cpuid_count(leaf, subleaf, eax, ebx, ecx, edx);
    cpuid_faults(1);
    errno = saved_errno;
    if (leaf == 7 && subleaf == 0) {
        ebx &= ~LEAF7_EBX;
        ecx &= ~LEAF7_ECX;
        edx &= ~LEAF7_EDX;
    } else if (leaf == 7 && subleaf == 1) {
        eax &= ~LEAF7_1_EAX;
        edx &= ~LEAF7_1_EDX;
    }
    registers[REG_RAX] = eax;
    registers[REG_RBX] = ebx;
    registers[REG_RCX] = ecx;
    registers[REG_RDX] = edx;
    registers[REG_RIP] += 2; /* CPUID is two bytes long */
}

__attribute__((constructor)) static void mask_cpuid(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    if (cpuid_faults(1) != 0) {
        perror("as_avx2: this CPU or kernel cannot make CPUID fault (arch_prctl ARCH_SET_CPUID)");
        exit(70);
    }
}
