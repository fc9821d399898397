# Numbered SQL migrations compiled into a library, one set per SQL dialect.
#
# Included from a CMakeLists.txt, it defines
#   dx_embed_migrations(<out-var> DIALECT <d> NAMESPACE <ns> HEADER <h>)
# which adds a build step turning migrations/<d>/NNNN_name.sql into a C++ file
# defining `const std::vector<Migration>& <ns>::Migrations()` (Migration and
# Migrations declared in <h>), and sets <out-var> to that file for add_library.
#
# Run as a script (cmake -P) it writes that file: OUTPUT, INPUTS (the SQL files,
# separated by "|"), DIALECT, NAMESPACE, HEADER.
if(NOT CMAKE_SCRIPT_MODE_FILE)
  set(DX_EMBED_MIGRATIONS_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

  function(dx_embed_migrations out_var)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "DIALECT;NAMESPACE;HEADER" "")
    if(NOT arg_DIALECT OR NOT arg_NAMESPACE OR NOT arg_HEADER)
      message(FATAL_ERROR "dx_embed_migrations needs DIALECT, NAMESPACE and HEADER")
    endif()
    file(GLOB inputs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/migrations/${arg_DIALECT}/*.sql)
    list(SORT inputs)
    # "|"-separated: a ";" list would be split into separate command arguments.
    string(REPLACE ";" "|" inputs_arg "${inputs}")
    set(output ${CMAKE_CURRENT_BINARY_DIR}/migrations_data.cpp)
    add_custom_command(
      OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} "-DINPUTS=${inputs_arg}" -DDIALECT=${arg_DIALECT}
              -DNAMESPACE=${arg_NAMESPACE} -DHEADER=${arg_HEADER} -P ${DX_EMBED_MIGRATIONS_SCRIPT}
      DEPENDS ${inputs} ${DX_EMBED_MIGRATIONS_SCRIPT}
      COMMENT "Embedding ${arg_DIALECT} migrations"
      VERBATIM)
    set(${out_var} ${output} PARENT_SCOPE)
  endfunction()
  return()
endif()

foreach(required OUTPUT DIALECT NAMESPACE HEADER)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "embed_migrations.cmake: -D${required}= is required")
  endif()
endforeach()
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(body "")
foreach(input IN LISTS INPUTS)
  get_filename_component(file_name ${input} NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.*)$" matched ${file_name})
  if(NOT matched)
    message(FATAL_ERROR "migration ${input} is not named NNNN_name.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${input} sql)
  string(APPEND body "      {${version}, \"${CMAKE_MATCH_2}\", R\"dxsql(${sql})dxsql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from migrations/${DIALECT}/*.sql; do not edit.\n#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n\nconst std::vector<Migration>& Migrations() {\n  static const std::vector<Migration> migrations = {\n${body}  };\n  return migrations;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
