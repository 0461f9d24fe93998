"""What the bank hands over: transaction descriptors as each processor and bank prints them, the
export frames and their schemas, events, statements, local times and the file writers."""
