package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestReadsTheCanonicalEvent(t *testing.T) {
	in, err := os.Open("testdata/work-order-started.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	if err := run(in, &out); err != nil {
		t.Fatal(err)
	}
	want := "order 1000123 at 1710: in_progress, 120 of 500 H87 (24.0%); 0010 in_progress; 0020 released\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestRefusesAPropertyTheContractDoesNotHave(t *testing.T) {
	event := `{"type":"dev.millwright.workorder.released.v1","subject":"1","data":{"orderId":"1","orderNumber":"1"}}`
	err := run(strings.NewReader(event), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unknown field "orderNumber"`) {
		t.Fatalf("want an error naming orderNumber, got %v", err)
	}
}
