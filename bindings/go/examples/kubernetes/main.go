// SPDX-License-Identifier: MIT
// A generator set up from a Kubernetes pod's environment, as written for
// the Go Snowflake library.  Only the lines marked "migrated" changed.
// The pod-derived machine id is now checked against the node's device,
// which fails when they differ: see MIGRATING.md for the version that
// takes the node's ids as they are.
package main

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	goflakeid "flakeid.dev/flakeid" // migrated: the Go library's import path before
)

func getK8sIDGenerator() (*goflakeid.Generator, error) {
	// The pod name ends in an ordinal: user-service-7f8b9c-5 is machine 5.
	podName := os.Getenv("HOSTNAME")
	var machineID uint8
	if parts := strings.Split(podName, "-"); len(parts) > 0 {
		if id, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
			machineID = uint8(id & 0x1F)
		}
	}

	region := uint16(1)
	switch os.Getenv("NODE_REGION") {
	case "us-east-1":
		region = 1
	case "us-west-2":
		region = 2
	case "eu-west-1":
		region = 3
	}

	config := goflakeid.NewConfig(region, 1, machineID).
		WithEpoch(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	return goflakeid.OpenConfig(*config) // migrated: was NewGenerator(*config)
}

func main() {
	gen, err := getK8sIDGenerator()
	if err != nil {
		log.Fatal(err)
	}
	id, err := gen.Generate()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
}
