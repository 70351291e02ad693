"""vnni2 (this project's design): the vnni kernel with two rows per block sharing activation loads."""
