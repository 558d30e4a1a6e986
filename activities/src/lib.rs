//! Activities: placeholder until the activities issue.
