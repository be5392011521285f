# The executor image: a release build with the Swift standard library linked in statically,
# then a distroless runtime (glibc and libstdc++ only) running as uid 65532.
# Build: make docker-build IMG=<registry>/executor:<tag>
FROM swift:6.1-bookworm AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
COPY hack/executor.order ./hack/
# The functions the executor runs laid out together (the Makefile's RELEASE_FLAGS; see
# hack/generate-symbol-order.sh), relative relocations packed (RELR: the runtime image's glibc
# is 2.36, the first to read them) and no symbol exported: less of the binary resident.
RUN swift build -c release --product executor --static-swift-stdlib \
      -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xswiftc -use-ld=lld \
      -Xlinker --symbol-ordering-file=/src/hack/executor.order -Xlinker --no-warn-symbol-ordering \
      -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic \
 && cp "$(swift build -c release --show-bin-path)/executor" /executor

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /executor /executor
USER 65532:65532
ENTRYPOINT ["/executor"]
CMD ["run"]
