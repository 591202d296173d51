# cmake -DBC_BIN=... -DOUT=... -P BcGenerateDocs.cmake
# Runs the hidden `backchannel docs` to write the manual pages (plain and gzip -9n, as Debian
# installs them) and the bash and zsh completions under OUT. Called by the backchannel_docs
# target (BcDocs.cmake) after every build of the binary.
foreach(var BC_BIN OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "BcGenerateDocs.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${OUT}/man" "${OUT}/completion")
file(MAKE_DIRECTORY "${OUT}/man" "${OUT}/completion")
execute_process(COMMAND "${BC_BIN}" docs man "${OUT}/man" OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${BC_BIN}" docs completion bash
                OUTPUT_FILE "${OUT}/completion/backchannel" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${BC_BIN}" docs completion zsh
                OUTPUT_FILE "${OUT}/completion/_backchannel" COMMAND_ERROR_IS_FATAL ANY)
find_program(GZIP gzip REQUIRED)
file(GLOB pages "${OUT}/man/*.1")
foreach(page IN LISTS pages)
  # -n: no name or time stamp inside, so the same pages give the same bytes (reproducible).
  execute_process(COMMAND "${GZIP}" -9nkf "${page}" COMMAND_ERROR_IS_FATAL ANY)
endforeach()
list(LENGTH pages count)
file(WRITE "${OUT}/stamp" "${count} pages\n")
