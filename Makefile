# The two commands of the README's quick start; both set themselves up.
#   make demo [ARGS="--otlp http://localhost:4318"]
.PHONY: demo test
demo:
	scripts/demo $(ARGS)
test:
	scripts/test
