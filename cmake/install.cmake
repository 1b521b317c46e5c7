# Install rules and the exported CMake package:
#   find_package(onnx_opt) -> onnx_opt::onnx_opt (the library API, include/onnx_opt/onnx_opt.h),
#   onnx_opt::onnx-opt (the command line). Dependencies are found again by onnx_optConfig.cmake.
# Layout under the prefix: bin/onnx-opt, lib/libonnx_opt_*.a, include/onnx_opt/ (onnx_opt.h and
# the ir/, passes/core/ and driver/ headers it includes), lib/cmake/onnx_opt/.
include(CMakePackageConfigHelpers)

set(onnx_opt_export_names float16 quant ir text evaluator passes driver)
foreach(lib name IN ZIP_LISTS onnx_opt_libraries onnx_opt_export_names)
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${name})
endforeach()

install(TARGETS ${onnx_opt_libraries} onnx_opt onnx-opt EXPORT onnx_opt_targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/onnx_opt/onnx_opt.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnx_opt)
# The headers the public one includes, at the paths the code spells ("ir/ir.h").
foreach(dir ir ir/text passes/core driver)
  file(GLOB headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.h)
  list(FILTER headers EXCLUDE REGEX "(_internal|test_util)\\.h$")
  install(FILES ${headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnx_opt/${dir})
endforeach()

set(onnx_opt_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/onnx_opt)
install(EXPORT onnx_opt_targets NAMESPACE onnx_opt:: FILE onnx_optTargets.cmake
  DESTINATION ${onnx_opt_cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/onnx_optConfig.cmake.in
  ${PROJECT_BINARY_DIR}/onnx_optConfig.cmake INSTALL_DESTINATION ${onnx_opt_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/onnx_optConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/onnx_optConfig.cmake
  ${PROJECT_BINARY_DIR}/onnx_optConfigVersion.cmake DESTINATION ${onnx_opt_cmake_dir})
