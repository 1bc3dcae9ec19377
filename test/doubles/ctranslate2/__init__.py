"""ctranslate2 TEST DOUBLE: the module-level probing API of the real package, nothing else.

Only tests use it (PYTHONPATH=test/doubles); setup never installs it and the worker never
chooses it. It mirrors python/cpp/module.cc of OpenNMT/CTranslate2:
  __version__                          FAKE_CT2_VERSION (default "4.6.3")
  get_cuda_device_count()              FAKE_CT2_CUDA_DEVICES (default 0); 0 on a CPU-only build
  get_supported_compute_types(device, device_index=0)
                                       the real rules from the compute capability
                                       FAKE_CT2_CUDA_CC (default "9.0", an H100)
  FAKE_CT2_WITH_CUDA=0                 a CPU-only build: "cuda" raises ValueError("This
                                       CTranslate2 package was not compiled with CUDA support")
  FAKE_CT2_CPU_INT16=1                 the CPU backend has an int16 GEMM (MKL builds)
Like the real one, importing it and these calls never load cuBLAS or cuDNN.
"""

import os

IS_TEST_DOUBLE = True


def _env(name, default):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


__version__ = _env("FAKE_CT2_VERSION", "4.6.3")


def _with_cuda():
    return _env("FAKE_CT2_WITH_CUDA", "1") != "0"


def _str_to_device(device):
    # ctranslate2::str_to_device: std::invalid_argument -> ValueError through pybind11.
    if device in ("cuda", "CUDA"):
        if not _with_cuda():
            raise ValueError("This CTranslate2 package was not compiled with CUDA support")
        return "cuda"
    if device in ("cpu", "CPU"):
        return "cpu"
    if device in ("auto", "AUTO"):
        return "cuda" if _with_cuda() and get_cuda_device_count() > 0 else "cpu"
    raise ValueError("unsupported device %s" % device)


def get_cuda_device_count():
    """Returns the number of visible GPU devices."""
    if not _with_cuda():
        return 0
    return int(_env("FAKE_CT2_CUDA_DEVICES", "0"))


def _device_properties(device_index):
    # cuda::get_device_properties: CUDA_CHECK(cudaGetDeviceProperties(...)) -> RuntimeError.
    count = get_cuda_device_count()
    if count == 0:
        raise RuntimeError("CUDA failed with error no CUDA-capable device is detected")
    if device_index < 0 or device_index >= count:
        raise RuntimeError("CUDA failed with error invalid device ordinal")
    major, _, minor = _env("FAKE_CT2_CUDA_CC", "9.0").partition(".")
    return int(major), int(minor or 0)


def get_supported_compute_types(device, device_index=0):
    """Returns the set of supported compute types on a device."""
    dev = _str_to_device(device)
    if dev == "cpu":
        bf16, fp16 = False, False
        int16 = _env("FAKE_CT2_CPU_INT16", "0") == "1"
        int8 = True
    else:
        major, minor = _device_properties(device_index)
        bf16 = major >= 8
        fp16 = major >= 7  # gpu_has_fp16_tensor_cores
        int16 = False
        int8 = major > 6 or (major == 6 and minor == 1)  # gpu_supports_int8
        if major == 12 and minor == 0:
            int8 = False  # disabled for sm120 upstream
    types = {"float32"}
    if bf16:
        types.add("bfloat16")
    if fp16:
        types.add("float16")
    if int16:
        types.add("int16")
    if int8:
        types.update(("int8", "int8_float32"))
        if fp16:
            types.add("int8_float16")
        if bf16:
            types.add("int8_bfloat16")
    return types


def contains_model(path):
    """Helper function to check if a directory seems to contain a CTranslate2 model."""
    return os.path.isfile(os.path.join(path, "model.bin"))


def set_random_seed(seed):
    """Sets the seed of random generators."""
    int(seed)
