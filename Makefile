# `make package` as the deployment notes say it; CMake + Ninja do the work in build/.
# `package` builds only the binary, not the tests and benchmarks that `ninja -C build package`
# (or `cmake --build build --target package`) would build first.
BUILD ?= build

.PHONY: build package test

build:
	scripts/build.sh

package: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target customer-portal
	cd $(BUILD) && cpack -G DEB

test:
	scripts/test.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
