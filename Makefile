# A thin front for people who type make; the scripts do the work.
.PHONY: all demo check install-deps install bench clean

all:
	scripts/build.sh

demo:
	scripts/demo.sh

check:
	scripts/check.sh

install-deps:
	scripts/install-deps.sh

install: all
	meson install -C build

bench:
	scripts/install-deps.sh --bench
	bench/startup.sh

clean:
	rm -rf build build-asan
