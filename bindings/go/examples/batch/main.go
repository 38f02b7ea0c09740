// SPDX-License-Identifier: MIT
// IDs for a bulk insert taken in one batch, as written for the Go
// Snowflake library.  Only the lines marked "migrated" changed.
package main

import (
	"fmt"
	"log"

	goflakeid "flakeid.dev/flakeid" // migrated: the Go library's import path before
)

type User struct {
	ID   uint64
	Name string
}

func BulkInsertUsers(users []User, gen *goflakeid.Generator) error {
	ids, err := gen.GenerateBatch(len(users))
	if err != nil {
		return err
	}
	for i := range users {
		users[i].ID = ids[i]
	}
	return bulkInsertToDB(users)
}

func bulkInsertToDB(users []User) error {
	for _, u := range users {
		fmt.Printf("%d\t%s\n", u.ID, u.Name)
	}
	return nil
}

func main() {
	config := goflakeid.NewConfig(0, 0, 0)
	gen, err := goflakeid.OpenConfig(*config) // migrated: was NewGenerator(*config)
	if err != nil {
		log.Fatal(err)
	}
	users := []User{{Name: "ada"}, {Name: "grace"}, {Name: "edsger"}}
	if err := BulkInsertUsers(users, gen); err != nil {
		log.Fatal(err)
	}
}
