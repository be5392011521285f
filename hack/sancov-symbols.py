#!/usr/bin/env python3
"""Prints, one per line, the functions of BINARY whose entries the given .sancov files record
(SanitizerCoverage trace-pc-guard output: a magic word, then module offsets), each once, in
the order of the binary (hack/generate-symbol-order.sh)."""
import bisect, struct, subprocess, sys
binary, files = sys.argv[1], sys.argv[2:]
starts, names = [], []
for line in subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        starts.append(int(parts[0], 16)); names.append(parts[2])
ran = set()
for path in files:
    data = open(path, "rb").read()
    magic, = struct.unpack_from("<Q", data)
    if magic != 0xC0BFFFFFFFFFFF64:
        sys.exit(f"{path}: not a 64-bit .sancov file")
    for (pc,) in struct.iter_unpack("<Q", data[8:]):
        i = bisect.bisect_right(starts, pc) - 1
        if i >= 0:
            ran.add(i)
# In the binary's own order: code of one module and one type stays together.
print("\n".join(dict.fromkeys(names[i] for i in sorted(ran))))
