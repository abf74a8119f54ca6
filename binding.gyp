{
  "variables": {
    # cross_win=1: build the win32-x64 addon on Linux with mingw-w64
    # (scripts/build-win32.mjs sets it with the mingw CC/CXX/LINK).
    "cross_win%": 0
  },
  "targets": [
    {
      "target_name": "hvsock",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux' and cross_win==0", {"sources": ["native/hvsock_linux.cc", "native/addon_poller.cc", "native/addon_io.cc", "native/io_linux.cc", "native/addon_message_sender.cc"]}],
        ["OS=='win' or cross_win==1", {
          "sources": [
            "native/hvsock_win32.cc",
            "native/errors_win32.cc",
            "native/registry_win32.cc",
            "native/addon_win32.cc",
            "native/overlapped_win32.cc",
            "native/addon_overlapped_win32.cc"
          ],
          "libraries": ["-lws2_32", "-ladvapi32"]
        }],
        ["cross_win==1", {
          "sources": ["native/win_delay_load_hook.cc"],
          "defines": ["BUILDING_NODE_EXTENSION", "_WIN32_WINNT=0x0A00", "WIN32_LEAN_AND_MEAN"],
          "cflags!": ["-fPIC", "-pthread"],
          "cflags_cc!": ["-fPIC", "-pthread"],
          "ldflags!": ["-rdynamic", "-pthread"],
          "ldflags": ["-static", "-static-libgcc", "-static-libstdc++"],
          # Node-API comes from the host executable: a delay-load import
          # library for "node.exe" made from node-api-headers' .def, resolved
          # at load time by the hook above.
          "actions": [{
            "action_name": "node_api_import_library",
            "inputs": ["<!(node -p \"require('node-api-headers').def_paths.node_api_def\")"],
            "outputs": ["<(INTERMEDIATE_DIR)/libnode_api_delay.a"],
            "action": ["x86_64-w64-mingw32-dlltool", "-d", "<@(_inputs)", "-D", "node.exe", "-y", "<@(_outputs)"]
          }],
          "libraries": ["<(INTERMEDIATE_DIR)/libnode_api_delay.a"]
        }]
      ]
    }
  ]
}
