# The two commands of the README's quick start (demo, test), both self-setting-up, and the slow
# SDK-suite, soak and stack stages that CI runs after them; the overhead benchmark, which CI does
# not run (docs/benchmarks.md).
#   make demo [ARGS="--otlp http://localhost:4318"]
#   make bench [SDK=1.13.0] [ARGS="--rounds 4 --calls 200"]
.PHONY: demo test sdk-suite soak stack bench
SDK ?= 2.15.0
demo:
	scripts/demo $(ARGS)
test:
	scripts/test
sdk-suite:
	scripts/sdk-suite
soak:
	scripts/soak
stack:
	scripts/dev-env .venv
	scripts/stack-e2e
bench:
	SDK=$(SDK) scripts/bench $(ARGS)
