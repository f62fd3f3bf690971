package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/refdata"
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
	apiKey := fs.Bool("api-key", false, "generate a random API key for a machine session instead (nothing read): print the key once and its password_hash line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *apiKey {
		return printAPIKey(stdout)
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

// apiKeyBytes is the length of a generated API key before encoding: 256
// random bits, beyond any brute force even at SHA-256's speed.
const apiKeyBytes = 32

// printAPIKey makes an API key from crypto/rand and prints it (base64url,
// 43 characters, the session's Password 554) and the configuration line
// that holds its SHA-256. The key itself is kept nowhere: it is shown once.
func printAPIKey(stdout io.Writer) error {
	b := make([]byte, apiKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	key := base64.RawURLEncoding.EncodeToString(b)
	fmt.Fprintf(stdout, "api key (the session's Password 554; shown only now): %s\npassword_hash: %q\n", key, refdata.APIKeyHashOf(key))
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
