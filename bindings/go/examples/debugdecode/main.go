// SPDX-License-Identifier: MIT
// Print what an ID is made of, as written for the Go Snowflake library.
// Only the lines marked "migrated" changed.
package main

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	goflakeid "flakeid.dev/flakeid" // migrated: the Go library's import path before
)

func DebugID(gen *goflakeid.Generator, id uint64) {
	components := gen.Decode(id)
	fmt.Printf("ID Debug Info for: %d\n", id)
	fmt.Printf("  Binary: %064b\n", id)
	fmt.Printf("  Timestamp: %v\n", components.Timestamp)
	fmt.Printf("  Region ID: %d\n", components.RegionID)
	fmt.Printf("  App ID: %d\n", components.AppID)
	fmt.Printf("  Machine ID: %d\n", components.MachineID)
	fmt.Printf("  Sequence: %d\n", components.Sequence)
	fmt.Printf("  Age: %v\n", time.Since(components.Timestamp))
}

func main() {
	config := goflakeid.NewConfig(0, 0, 0)
	gen, err := goflakeid.OpenConfig(*config) // migrated: was NewGenerator(*config)
	if err != nil {
		log.Fatal(err)
	}
	id, err := gen.Generate()
	if err != nil {
		log.Fatal(err)
	}
	if len(os.Args) > 1 {
		if id, err = strconv.ParseUint(os.Args[1], 10, 64); err != nil {
			log.Fatal(err)
		}
	}
	DebugID(gen, id)
}
