# ctest driver: runs a command and checks its exit code and output.
#   cmake -DCMD="prog;arg;..." -DEXPECT_RC=N -DEXPECT_REGEX="re1;re2"
#         [-DEXPECT_STDERR_REGEX=re] [-DTRUNCATE_FROM=f -DTRUNCATE_TO=f -DTRUNCATE_BYTES=n]
#         -P run_and_check.cmake
if(DEFINED TRUNCATE_FROM)
  # A truncated copy of a file: its first TRUNCATE_BYTES bytes.
  execute_process(COMMAND head -c ${TRUNCATE_BYTES} ${TRUNCATE_FROM}
                  OUTPUT_FILE ${TRUNCATE_TO} RESULT_VARIABLE hrc)
  if(NOT hrc EQUAL 0)
    message(FATAL_ERROR "could not truncate ${TRUNCATE_FROM}")
  endif()
endif()
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}")
endif()
foreach(re IN LISTS EXPECT_REGEX)
  if(NOT "${out}${err}" MATCHES "${re}")
    message(FATAL_ERROR "output does not match '${re}'")
  endif()
endforeach()
if(DEFINED EXPECT_STDERR_REGEX AND NOT "${err}" MATCHES "${EXPECT_STDERR_REGEX}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR_REGEX}'")
endif()
