# dx_module(NAME ...) declares one capability folder as a static library named dx_NAME.
function(dx_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)
endfunction()
