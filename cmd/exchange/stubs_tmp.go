package main

import "io"

func cmdBroker(args []string, stdout, stderr io.Writer) error { return nil }
func cmdBench(args []string, stdout, stderr io.Writer) error  { return nil }
