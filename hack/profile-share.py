#!/usr/bin/env python3
"""Where a `perf record --call-graph dwarf` profile of the executor spends its CPU, by part.

    perf script -i /tmp/perf.data -F comm,tid,ip,sym | swift demangle --simplified > /tmp/perf.txt
    hack/profile-share.py /tmp/perf.txt                       # share of each part of the executor
    hack/profile-share.py /tmp/perf.txt --under 'TaskExecutionContext.init'   # what one frame calls

Each sample is charged to the first part (in the order below) with a frame on its stack, so the
parts add up to 100%. `--under` shows the frames called directly by the outermost frame matching
the expression, across all samples that have it (`--depth N` for chains of N frames).
"""
import argparse
import collections
import re
import sys

PARTS = [
    ("bench heap sampler (not the executor's)", r"int_mallinfo|Memory\.heapInUse"),
    ("watch event decoding", r"WatchEventDecoder"),
    ("write answer decoding", r"WrittenVersion|JSONBytesDecoder\.decode"),
    ("request encoding", r"JSONValueEncoder|TreeEncoder|StreamWriter|JSONBytesEncoder|JSONValue\.serialized|JSONValue\.write"),
    ("reconcile rounds", r"TaskActionReconciler|PluginDriver"),
    ("informer dispatch and cache", r"Informer\.apply|Informer\.dispatch|Store\."),
    ("controller and work queue", r"Controller\.|WorkQueue|RateLimiter"),
    ("HTTP/1 parsing (llhttp)", r"HTTPDecoder|llhttp"),
    ("AsyncHTTPClient: sending", r"HTTP1ClientChannelHandler|HTTP1Connection|sendRequestHead"),
    ("AsyncHTTPClient: client and pool", r"HTTPClient\.|HTTPConnectionPool|RequestBag|Transaction"),
    ("KubernetesClient", r"KubernetesClient|HTTPTransport"),
    ("watch streams", r"WatchStream"),
    ("NIO read path", r"readFromSocket|BaseSocketChannel|ChannelPipeline|ChannelHandlerContext"),
    ("NIO event loop, other", r"SelectableEventLoop|Selector"),
    ("task and dispatch runtime", r"swift_job_run|swift_task|_dispatch"),
]
SKIP = re.compile(r"\(inlined\)|^outlined|partial apply|thunk|swift_task|swift_job")


def samples(path):
    stack = []
    with open(path) as lines:
        for line in lines:
            if not line.strip():
                if stack:
                    yield stack
                stack = []
            elif line[0] in "\t ":
                parts = line.strip().split(" ", 1)
                stack.append(parts[1] if len(parts) > 1 else "?")
    if stack:
        yield stack


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", help="perf script output, demangled")
    parser.add_argument("--under", help="a frame (regular expression): show what it calls")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    all_samples = list(samples(args.script))
    total = len(all_samples)
    if total == 0:
        sys.exit("no samples")
    counts = collections.Counter()
    if args.under:
        target = re.compile(args.under)
        for stack in all_samples:
            hits = [i for i, frame in enumerate(stack) if target.search(frame)]
            if not hits:
                continue
            counts["(all)"] += 1
            chain, j = [], max(hits) - 1
            while j >= 0 and len(chain) < args.depth:
                if not SKIP.search(stack[j]) or j == 0:
                    chain.append(stack[j][:100])
                j -= 1
            counts[" > ".join(chain) or "(self)"] += 1
    else:
        parts = [(name, re.compile(pattern)) for name, pattern in PARTS]
        for stack in all_samples:
            name = next((n for n, p in parts if any(p.search(f) for f in stack)), "other (leaf: %s)" % stack[0][:50])
            counts[name] += 1
    print(f"{total} samples")
    for name, count in counts.most_common(args.top):
        print(f"{100 * count / total:6.2f}%  {name}")


if __name__ == "__main__":
    main()
