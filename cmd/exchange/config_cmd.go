package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/config"
)

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := stdout.Write(config.DefaultYAML())
	return err
}

func cmdPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("passwd", stderr)
	cost := fs.Int("cost", bcrypt.DefaultCost, "bcrypt cost")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("no password on standard input")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), *cost)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(h))
	return nil
}

// loadConfig returns the file's configuration, or the embedded default when
// path is empty.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}
