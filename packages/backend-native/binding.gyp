{
  "variables": {
    "kernel_cflags": ["-O3", "-fPIC", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "unlearn_native",
      "sources": ["native/addon.cc", "native/kernels_generic.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "libraries": ["-ldl"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(kernel_cflags)", "-fexceptions"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["unlearn_kernels_avx512", "unlearn_kernels_avx2"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "unlearn_kernels_avx512",
          "type": "static_library",
          "sources": ["native/kernels_avx512.cc"],
          "include_dirs": ["native"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
          "cflags_cc": ["<@(kernel_cflags)", "-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"]
        },
        {
          "target_name": "unlearn_kernels_avx2",
          "type": "static_library",
          "sources": ["native/kernels_avx2.cc"],
          "include_dirs": ["native"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
          "cflags_cc": ["<@(kernel_cflags)", "-mavx2", "-mfma"]
        }
      ]
    }]
  ]
}
