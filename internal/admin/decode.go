package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// bodyMax bounds a request body.
const bodyMax = 64 << 10

// apiError is an error answer: an HTTP status and {"error": ..., "param": ...}
// naming the field or parameter at fault.
type apiError struct {
	Status int    `json:"-"`
	Msg    string `json:"error"`
	Param  string `json:"param,omitempty"`
}

func (e *apiError) Error() string {
	if e.Param != "" {
		return e.Param + ": " + e.Msg
	}
	return e.Msg
}

func errf(status int, param, format string, args ...any) *apiError {
	return &apiError{Status: status, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// decodeStrict decodes one JSON object from b into v. Unknown fields, a
// value of the wrong type, trailing data and a body that is not one object
// are refused with a 400 naming the field. It never panics.
func decodeStrict(b []byte, v any) *apiError {
	if len(bytes.TrimSpace(b)) == 0 {
		return errf(400, "", "the request body must be a JSON object")
	}
	if len(b) > bodyMax {
		return errf(413, "", "request body over %d bytes", bodyMax)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errf(400, "", "trailing data after the JSON object")
	}
	return nil
}

func jsonError(err error) *apiError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errf(400, "", "the request body must be a JSON object, not %s", te.Value)
		}
		return errf(400, field, "must be %s, not %s", typeName(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return errf(400, "", "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errf(400, "", "truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name := strings.Trim(f, `"`)
		return errf(400, name, "unknown field %q", name)
	}
	return errf(400, "", "bad JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "*int"):
		return "an integer"
	case t == "bool" || t == "*bool":
		return "true or false"
	case t == "string" || t == "*string":
		return "a string"
	}
	return t
}
