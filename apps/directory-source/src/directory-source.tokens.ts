/** DI token of the validated {@link DirectorySourceConfig}. */
export const DIRECTORY_SOURCE_CONFIG = Symbol('DIRECTORY_SOURCE_CONFIG');
