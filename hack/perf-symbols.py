#!/usr/bin/env python3
"""Prints, one per line and each once, the functions of a binary that a `perf record` saw.

    perf-symbols.py samples DATA BINARY   functions where samples landed
    perf-symbols.py faults DATA BINARY    functions whose code page faults brought in
                                          (a record of `-e minor-faults -c 1 -d`: a fault
                                          at the instruction pointer itself is a code fetch)

hack/generate-symbol-order.sh uses both to find the functions coverage cannot name: code not
compiled with it (BoringSSL's assembly) and code the coverage build generated differently.
"""
import os, re, subprocess, sys

mode, data, binary = sys.argv[1], sys.argv[2], os.path.basename(sys.argv[3])
fields = "ip,sym,dso" if mode == "samples" else "addr,ip,sym,dso"
out = subprocess.run(["perf", "script", "--no-demangle", "-i", data, "-G", "-F", fields], capture_output=True, text=True, check=True).stdout
found = {}
for line in out.splitlines():
    if mode == "samples":
        m = re.match(r"\s*([0-9a-f]+)\s+(\S+)\s+\((.*)\)\s*$", line)
        if m and os.path.basename(m.group(3)) == binary and m.group(2) != "[unknown]":
            found[m.group(2)] = None
    else:
        # addr, its symbol and object, then the ip, its symbol and object
        m = re.match(r"\s*([0-9a-f]+)\s+.*?\s+\((/[^)]*|\[[^]]*\])\)\s+([0-9a-f]+)\s+(\S+)\s+\((/[^)]*|\[[^]]*\])\)\s*$", line)
        if m and m.group(1) == m.group(3) and os.path.basename(m.group(5)) == binary and m.group(4) != "[unknown]":
            found[m.group(4)] = None
print("\n".join(found))
