# The two commands of the README's quick start (demo, test), both self-setting-up, and the slow
# SDK-suite, soak and stack stages that CI runs after them.
#   make demo [ARGS="--otlp http://localhost:4318"]
.PHONY: demo test sdk-suite soak stack
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
