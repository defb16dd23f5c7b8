# libFuzzer targets, built with ./configure --enable-fuzz CC=clang
