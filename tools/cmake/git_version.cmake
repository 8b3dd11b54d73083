# Regenerates build/generated/avf_git.h at every build, rewriting it only when the commit changed
# (so `avf --version` names the commit it was built from without forcing rebuilds).
set(AVF_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
add_custom_target(avf_git_version ALL
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${AVF_GENERATED_DIR}/avf_git.h
          -P ${CMAKE_SOURCE_DIR}/tools/cmake/write_git_version.cmake
  BYPRODUCTS ${AVF_GENERATED_DIR}/avf_git.h
  COMMENT "Recording git commit")
