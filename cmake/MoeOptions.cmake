# Project-wide compiler settings: warnings, sanitizers, CUDA detection.

# Host-compiler flags only: nvcc spells warnings differently (it gets its own below).
set(MOE_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wno-missing-field-initializers)
add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${MOE_CXX_WARNINGS}>")
if(MOE_WERROR)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  add_compile_options($<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
endif()

if(MOE_SANITIZE)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${MOE_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${MOE_SANITIZE})
endif()

# Compiler flags for the run-time dispatched SIMD translation units. A source file named
# *_avx2.cpp or *_avx512.cpp is compiled for that ISA only; callers reach it through
# core/quant/cpu_features.h after checking the CPU and the OS (XGETBV) support it.
set(MOE_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(MOE_AVX512_FLAGS -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq)

function(moe_apply_simd_flags)
  foreach(src IN LISTS ARGN)
    if(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${MOE_AVX512_FLAGS}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${MOE_AVX2_FLAGS}")
    endif()
  endforeach()
endfunction()

# CUDA: AUTO turns the backend on when nvcc exists (PATH or /usr/local/cuda).
set(MOE_CUDA_ENABLED OFF)
if(NOT MOE_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(MOE_NVCC nvcc PATHS /usr/local/cuda/bin NO_CACHE)
    if(MOE_NVCC)
      set(CMAKE_CUDA_COMPILER ${MOE_NVCC})
    endif()
  endif()
  if(CMAKE_CUDA_COMPILER)
    # A100 (sm_80) and H100/H200 (sm_90): the GPUs this backend is measured on. Each extra
    # architecture is another full device compile of every .cu file (nvcc is the slowest step
    # of a CI build); other GPUs: -DCMAKE_CUDA_ARCHITECTURES=native or a list.
    set(CMAKE_CUDA_ARCHITECTURES 80 90 CACHE STRING "CUDA architectures")
    enable_language(CUDA)
    # C++20: the block maths (core/quant/block_dot.h) is shared with the C++20 CPU kernels.
    # CMake 3.25 (Debian 12) does not know that nvcc >= 12 takes -std=c++20: it is told here.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(MOE_CUDA_ENABLED ON)
  elseif(MOE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MOE_CUDA=ON but nvcc was not found (PATH, /usr/local/cuda/bin)")
  endif()
endif()
message(STATUS "MoE Studio: CUDA backend ${MOE_CUDA_ENABLED}, UI ${MOE_BUILD_UI}, sanitize '${MOE_SANITIZE}'")
