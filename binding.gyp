{
  "targets": [
    {
      "target_name": "hvsock",
      "sources": ["native/addon.cc", "native/poller.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {"sources": ["native/hvsock_linux.cc", "native/io.cc", "native/io_linux.cc", "native/blocking_send.cc"]}],
        ["OS=='win'", {"sources": ["native/hvsock_win32.cc"], "libraries": ["-lws2_32"]}]
      ]
    }
  ]
}
