# The executor's developer entry points. `make help` lists them.
SWIFT ?= swift
SANDBOX_PORT ?= 6443
SANDBOX_KUBECONFIG ?= sandbox.kubeconfig
# The image dist/install.yaml names; no image is published yet: build and push your own.
IMG ?= executor:0.1.0
KUBECTL ?= kubectl
CONTAINER_TOOL ?= docker
# How many tests Swift Testing runs at once. Unset, it starts all ~380 at the same moment, and on
# 2 busy cores every test's waits then stretch with the whole suite's work (run beside a build,
# 20–30 s waits timed out). 8 keeps both cores busy and is the fastest quiet run measured
# (61 s against 66 s unbounded and 78 s at 4). TEST_WIDTH= (empty) restores unbounded.
TEST_WIDTH ?= 8
TEST_ENV = $(if $(TEST_WIDTH),SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH))
# Release builds put the functions the executor runs side by side (hack/executor.order, made by
# `make symbol-order`), so the few MiB of code it runs do not keep most of its 17 MiB resident
# (docs/benchmarks.md, "Hot code laid out together"). Every release build here uses the same
# flags, so that none of them rebuilds the others' modules. RELEASE_FLAGS= builds without.
# The Swift runtime and Foundation are linked statically, as the Dockerfile links them, so their
# hot functions are in the list too. Relative relocations are packed (RELR, glibc 2.36+) and no
# symbol is exported: the loader otherwise reads 3.3 MiB of relocations and 5 MiB of dynamic
# symbols, and they stay resident ("Statically linked, relocations packed, nothing exported").
RELEASE_ORDER ?= $(CURDIR)/hack/executor.order
RELEASE_FLAGS ?= --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xswiftc -use-ld=lld \
	-Xlinker --symbol-ordering-file=$(RELEASE_ORDER) -Xlinker --no-warn-symbol-ordering \
	-Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic

.PHONY: help dev build test test-under-load e2e-sandbox test-tsan fuzz drill drill-ci example sandbox run manifests chart build-installer install uninstall deploy undeploy docker-build docker-push protos e2e bench symbol-order print-release-flags clean

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

dev: ## No cluster needed: sandbox + kubelet + CRD + executor + samples, printing each phase as it happens.
	$(SWIFT) build --product executor
	$(SWIFT) run executor dev --port $(SANDBOX_PORT) --kubeconfig-out $(SANDBOX_KUBECONFIG)

build: ## Build the executor (debug).
	$(SWIFT) build

test: ## Build and run every unit and integration test (against KubeSandbox).
	$(SWIFT) build --build-tests
	$(TEST_ENV) $(SWIFT) test --skip-build

test-under-load: ## Run `make test` 20 times in a row beside a release build (RUNS=n to change).
	hack/test-under-load.sh $(or $(RUNS),20)

test-tsan: ## Build the tests with ThreadSanitizer (in .build-tsan) and run the KubeRuntime tests under it, reports printed, not fatal (README, Testing).
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="halt_on_error=0 $(TSAN_OPTIONS)" $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "$(or $(TSAN_FILTER),KubeRuntimeTests)"

fuzz: ## Build the fuzz targets with libFuzzer and ASan and run each FUZZ_SECONDS (60); FUZZ_TARGETS="a b" picks some (Fuzz/README.md).
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" hack/fuzz.sh

drill: ## Run the reliability drills at full size, release build (about 20 minutes; docs/reliability.md). DRILLS="a b" picks some.
	$(SWIFT) build -c release --product executor $(RELEASE_FLAGS)
	$(SWIFT) build -c release --product drills $(RELEASE_FLAGS)
	.build/release/drills $(DRILLS)

drill-ci: ## The drills' short versions, as CI runs them (about 5 minutes after `make test`).
	$(SWIFT) build --product executor
	$(SWIFT) build --product drills
	.build/debug/drills --short $(DRILLS)

example: ## Build and test Examples/job-plugin (an executor with a plugin of its own, checked by the conformance kit) and check its binary.
	$(SWIFT) build --build-tests --package-path Examples/job-plugin --scratch-path .build-example
	$(SWIFT) test --skip-build --package-path Examples/job-plugin --scratch-path .build-example
	hack/check-example.sh .build-example/debug/job-executor

sandbox: build ## Run KubeSandbox with the simulated kubelet on $(SANDBOX_PORT) and write $(SANDBOX_KUBECONFIG).
	$(SWIFT) run executor sandbox --kubelet --port $(SANDBOX_PORT) --kubeconfig-out $(SANDBOX_KUBECONFIG)

run: build ## Install the CRD into the sandbox of `make sandbox` and run the executor against it.
	kubectl --kubeconfig $(SANDBOX_KUBECONFIG) apply -f config/crd/bases/flyte.org_taskactions.yaml
	$(SWIFT) run executor run --kubeconfig $(SANDBOX_KUBECONFIG) --log-format text --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081

manifests: ## Regenerate config/crd/bases (from ExecutorAPI) and config/rbac/role.yaml (from the registered plugins).
	$(SWIFT) run executor manifests

chart: ## Regenerate charts/executor/templates from config/ (needs kustomize or kubectl, and PyYAML).
	hack/generate-chart.py

build-installer: manifests ## Render config/default with IMG into dist/install.yaml (committed).
	hack/build-installer.sh $(IMG)

install: ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply -k config/crd

uninstall: ## Remove the CRDs (and every TaskAction) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

deploy: build-installer ## Deploy the executor (CRDs, RBAC, Deployment) with IMG to the cluster.
	$(KUBECTL) apply -f dist/install.yaml

undeploy: ## Remove everything deploy created, and the secrets webhook's configuration the executor registered.
	$(KUBECTL) delete --ignore-not-found -f dist/install.yaml
	$(KUBECTL) delete --ignore-not-found mutatingwebhookconfiguration executor-flyte-pod-webhook

docker-build: ## Build the image IMG (needs a container engine; none runs on the CI machines).
	$(CONTAINER_TOOL) build -t $(IMG) .

docker-push: ## Push the image IMG.
	$(CONTAINER_TOOL) push $(IMG)

protos: ## Regenerate Sources/FlyteIDL from proto/ (needs protoc; see hack/generate-protos.sh).
	hack/generate-protos.sh

e2e: ## Run the portable suite against the cluster KUBECONFIG names (EXECUTOR_E2E=1; README, Testing), then the install test with IMG_E2E.
	@if [ -z "$$KUBECONFIG" ] && [ ! -f "$$HOME/.kube/config" ]; then \
		echo "e2e: skipped: no cluster configured (set KUBECONFIG to a real cluster's kubeconfig)"; \
	else \
		$(SWIFT) build --build-tests && EXECUTOR_E2E=1 $(TEST_ENV) $(SWIFT) test --skip-build; status=$$?; \
		$(KUBECTL) delete node -l executor.flyte.org/e2e=true --ignore-not-found >/dev/null 2>&1 || true; \
		[ $$status -eq 0 ] || exit $$status; \
		if [ -n "$$IMG_E2E" ]; then IMG=$$IMG_E2E hack/e2e-install.sh; \
		else echo "e2e: install test skipped: set IMG_E2E to an image the cluster can pull"; fi; \
	fi

e2e-sandbox: ## The portable suite against a KubeSandbox in its own process, reached only through its kubeconfig.
	$(SWIFT) build --build-tests
	$(SWIFT) build --product executor
	hack/e2e-sandbox.sh

bench: ## Run the benchmarks in release mode; results go to stdout (see docs/benchmarks.md).
	$(SWIFT) build -c release --product executor-bench $(RELEASE_FLAGS)
	.build/release/executor-bench

symbol-order: ## Regenerate hack/executor.order, the functions release builds lay out together (about 45 minutes).
	hack/generate-symbol-order.sh

print-release-flags: # for hack/generate-symbol-order.sh
	@echo $(RELEASE_FLAGS)

clean: ## Remove build output.
	rm -rf .build
