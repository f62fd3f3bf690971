package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to the admin API.
type Client struct {
	// Addr is host:port or a base URL (http://host:port).
	Addr  string
	Token string
	HTTP  *http.Client
}

// ServerError is an error answer of the API.
type ServerError struct {
	Status int
	Msg    string
	Param  string
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
	if e.Param != "" {
		s += " (" + e.Param + ")"
	}
	return s
}

func (c *Client) base() string {
	a := strings.TrimRight(c.Addr, "/")
	if !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
		a = "http://" + a
	}
	return a
}

// Do sends method to path (under /admin/v1/) with body encoded as JSON
// (nil: none) and returns the raw JSON answer. An error answer is a
// *ServerError.
func (c *Client) Do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+"/admin/v1/"+strings.TrimLeft(path, "/"), rd)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		se := &ServerError{Status: resp.StatusCode}
		var e apiError
		if json.Unmarshal(b, &e) == nil && e.Msg != "" {
			se.Msg, se.Param = e.Msg, e.Param
		} else {
			se.Msg = strings.TrimSpace(string(b))
		}
		return nil, se
	}
	return b, nil
}

// Get is Do with GET, decoding the answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) (json.RawMessage, error) {
	raw, err := c.Do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return raw, json.Unmarshal(raw, out)
}

// Post is Do with POST, decoding the answer into out.
func (c *Client) Post(ctx context.Context, path string, body, out any) (json.RawMessage, error) {
	raw, err := c.Do(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	return raw, json.Unmarshal(raw, out)
}
