# Writes OUTPUT, a C++ file defining dx::storage::sqlite::Migrations() from the
# SQL files in INPUTS (named NNNN_name.sql, separated by "|"), in order.
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
"// Generated from migrations/sqlite/*.sql; do not edit.\n#include \"storage/sqlite/migrations.hpp\"\n\nnamespace dx::storage::sqlite {\n\nconst std::vector<Migration>& Migrations() {\n  static const std::vector<Migration> migrations = {\n${body}  };\n  return migrations;\n}\n\n}  // namespace dx::storage::sqlite\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
