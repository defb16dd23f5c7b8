# MIPSA_CHECK_CFLAG(FLAG, [ACTION-IF-ACCEPTED], [ACTION-IF-NOT])
# ---------------------------------------------------------------
# Whether $CC compiles a trivial C program with FLAG and -Werror, so a flag
# the compiler only warns about (clang: "unknown warning option") counts as
# not accepted.  gcc accepts any -Wno-X without a word unless another
# warning is printed, so a -Wno-X flag is tried in its -WX form.
AC_DEFUN([MIPSA_CHECK_CFLAG],
[AS_VAR_PUSHDEF([mipsa_cflag_var], [mipsa_cv_cflag_$1])dnl
AC_CACHE_CHECK([whether $CC accepts $1], [mipsa_cflag_var],
[mipsa_cflag_save=$CFLAGS
mipsa_cflag_try=`AS_ECHO(["$1"]) | sed 's/^-Wno-/-W/'`
CFLAGS="$CFLAGS -Werror $mipsa_cflag_try"
AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
  [AS_VAR_SET([mipsa_cflag_var], [yes])],
  [AS_VAR_SET([mipsa_cflag_var], [no])])
CFLAGS=$mipsa_cflag_save])
AS_VAR_IF([mipsa_cflag_var], [yes], [$2], [$3])dnl
AS_VAR_POPDEF([mipsa_cflag_var])])

# MIPSA_ADD_CFLAGS(VARIABLE, FLAGS)
# ---------------------------------
# Append to the shell VARIABLE each of the blank-separated FLAGS that
# MIPSA_CHECK_CFLAG finds accepted.
AC_DEFUN([MIPSA_ADD_CFLAGS],
[m4_foreach_w([mipsa_flag], [$2],
  [MIPSA_CHECK_CFLAG(mipsa_flag, [$1="$$1 mipsa_flag"])
])])
