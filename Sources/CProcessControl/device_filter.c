// Device control for cgroup v2: there is no devices.allow/devices.deny there, only an eBPF
// program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. The program is a few
// instructions per rule, written out here (no clang, no libbpf), as runc's devicefilter does.
// See include/CProcessControl.h.
#define _GNU_SOURCE
#include "CProcessControl.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr) {
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    struct bpf_insn i;
    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

// Registers: r1 the context (struct bpf_cgroup_dev_ctx: access_type, major, minor, 32 bits
// each), r2 the device type (access_type's low 16 bits), r4 major, r5 minor, r0 the verdict.
enum { R0 = 0, R1 = 1, R2 = 2, R4 = 4, R5 = 5 };

static struct bpf_insn load_u32(uint8_t dst, int16_t offset) { return insn(BPF_LDX | BPF_W | BPF_MEM, dst, R1, offset, 0); }
static struct bpf_insn jump_if_not(uint8_t reg, int32_t value, int16_t skip) { return insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, skip, value); }
static struct bpf_insn verdict(int allow) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, allow ? 1 : 0); }
static struct bpf_insn leave(void) { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int sched_attach_device_filter(int cgroup_fd, const struct sched_device_rule *rules, size_t rule_count,
                               char *log, size_t log_size) {
    if (rule_count > 1000) { errno = E2BIG; return -1; }
    const size_t capacity = 4 + rule_count * 5 + 2;
    struct bpf_insn *program = calloc(capacity, sizeof *program);
    if (program == NULL) return -1;
    size_t n = 0;
    program[n++] = load_u32(R2, 0);
    program[n++] = insn(BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xFFFF);
    program[n++] = load_u32(R4, 4);
    program[n++] = load_u32(R5, 8);
    for (size_t r = 0; r < rule_count; r++) {
        const struct sched_device_rule *rule = &rules[r];
        if ((rule->type != 'c' && rule->type != 'b') || rule->major > INT32_MAX || rule->minor > INT32_MAX || rule->minor < -1) {
            free(program);
            errno = EINVAL;
            return -1;
        }
        // [type?] [major?] [minor?] verdict exit: a mismatch skips to the next rule.
        const int16_t block = rule->minor < 0 ? 4 : 5;
        program[n++] = jump_if_not(R2, rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, block - 1);
        program[n++] = jump_if_not(R4, (int32_t)rule->major, block - 2);
        if (rule->minor >= 0) program[n++] = jump_if_not(R5, (int32_t)rule->minor, block - 3);
        program[n++] = verdict(rule->allow);
        program[n++] = leave();
    }
    program[n++] = verdict(1);  // no rule matched: allowed
    program[n++] = leave();

    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)program;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    int prog = (int)bpf(BPF_PROG_LOAD, &attr);
    if (prog < 0 && log != NULL && log_size > 0 && (errno == EINVAL || errno == EACCES)) {
        // Again with the verifier's log, to say why.
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
        prog = (int)bpf(BPF_PROG_LOAD, &attr);
    }
    const int load_errno = errno;
    free(program);
    if (prog < 0) { errno = load_errno; return -1; }

    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    // Beside any program above (systemd attaches its own for DeviceAllow=): all must allow.
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    const long attached = bpf(BPF_PROG_ATTACH, &attr);
    const int attach_errno = errno;
    close(prog);  // the attachment holds the program
    if (attached != 0) { errno = attach_errno; return -1; }
    return 0;
}

int sched_device_filter_count(int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_QUERY, &attr) != 0) return -1;
    return (int)attr.query.prog_cnt;
}
