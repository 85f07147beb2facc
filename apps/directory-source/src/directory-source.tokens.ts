/** DI token of the validated {@link DirectorySourceSettings}. */
export const DIRECTORY_SOURCE_SETTINGS = Symbol('DIRECTORY_SOURCE_SETTINGS');
