# robotrain job image: the robotrain binary with the LibTorch CI compiles against (PyTorch's
# torch 2.10.0 wheel, CUDA 12.8, cuDNN 9.10, NCCL 2.27: requirements.txt's pin) and FFmpeg.
# Azure ML and OSMO jobs run `robotrain train ...` inside it (see docs/platforms.md).
#   docker build -t <registry>/robotrain:0.1.0-cuda .
#   docker push <registry>/robotrain:0.1.0-cuda
#   robotrain submit azureml -i <registry>/robotrain:0.1.0-cuda ...
#
# Debian 12 like the build machines. The CUDA runtime libraries come from the wheel's
# nvidia-*-cu12 packages (found through libtorch's $ORIGIN RPATH), the driver from the host
# (NVIDIA Container Toolkit: NVIDIA_VISIBLE_DEVICES / NVIDIA_DRIVER_CAPABILITIES below), so no
# CUDA base image and no second CUDA runtime are involved. The venv keeps one path in both
# stages so the binary's RPATH to libtorch stays valid.
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates git python3 python3-venv \
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev \
      libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libyaml-cpp-dev \
      libzstd-dev libsnappy-dev zlib1g-dev libpng-dev liblz4-dev libbrotli-dev libpugixml-dev \
      libbox2d-dev libgloo-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
# Only torch (and the CUDA runtime packages it pins): its C++ libraries do not depend on the
# Python version, so Debian's Python 3.11 serves; the version is requirements.txt's.
COPY requirements.txt /src/requirements.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "$(grep -E '^torch==' /src/requirements.txt)"
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DROBOTRAIN_BUILD_TESTS=OFF \
      -DROBOTRAIN_BUILD_BENCH=OFF -DROBOTRAIN_VENV=/opt/venv -DROBOTRAIN_TORCH_PCH=OFF \
 && cmake --build /build --target robotrain_cli \
 && site=$(/opt/venv/bin/python -c 'import site; print(site.getsitepackages()[0])') \
 && mkdir -p /opt/torch-runtime \
 && cp -a --parents "$site/torch/lib" "$site/nvidia" /opt/torch-runtime/

FROM ${DEBIAN_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      libavformat59 libavcodec59 libswscale6 libavutil57 libcurl4 libssl3 libyaml-cpp0.7 \
      libzstd1 libsnappy1v5 zlib1g libpng16-16 liblz4-1 libbrotli1 libpugixml1v5 libbox2d2 \
      libjemalloc2 libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/torch-runtime/ /
COPY --from=build /build/bin/robotrain /usr/local/bin/robotrain
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
ENTRYPOINT []
CMD ["robotrain", "--help"]
